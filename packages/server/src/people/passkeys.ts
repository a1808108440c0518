import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import type { Tenant } from '../tenants/model.js';
import { type Factor, factorStore } from './factor-store.js';
import type { SignInUser } from './user-store.js';

/**
 * Passkeys (WebAuthn Level 3 through @simplewebauthn/server). The relying party is the public URL's
 * host; the only accepted origin is the public URL's origin. Challenges are stored server-side,
 * single-use, for 5 minutes. Registration asks for a discoverable credential (a passkey), so the
 * same key can later sign in without a password; that passwordless sign-in requires user
 * verification (the device's PIN or biometric), which makes it a two-factor sign-in on its own.
 */
const CHALLENGE_TTL_MS = 5 * 60_000;

export type CeremonyPurpose = 'register' | 'authenticate' | 'second_factor';

function relyingParty(deps: Pick<Deps, 'config'>): { rpID: string; origin: string } {
  const url = new URL(deps.config.publicUrl);
  return { rpID: url.hostname, origin: url.origin };
}

async function storeChallenge(deps: Deps, tenantId: string, userId: string | null, purpose: CeremonyPurpose, challenge: string): Promise<string> {
  const id = newId();
  await factorStore.insertChallenge(deps.db, { id, tenantId, userId, purpose, challenge, expiresAt: deps.clock() + CHALLENGE_TTL_MS });
  return id;
}

export interface Ceremony<T> {
  challengeId: string;
  options: T;
}

export async function registrationOptions(deps: Deps, tenant: Tenant, user: SignInUser, existing: Factor[]): Promise<Ceremony<PublicKeyCredentialCreationOptionsJSON>> {
  const options = await generateRegistrationOptions({
    rpName: tenant.displayName ?? tenant.name,
    rpID: relyingParty(deps).rpID,
    userName: user.username ?? user.email ?? user.id,
    userDisplayName: user.displayName,
    userID: new TextEncoder().encode(user.id),
    attestationType: 'none',
    excludeCredentials: existing.filter((f) => f.type === 'passkey' && f.credentialId).map((f) => ({ id: f.credentialId as string, transports: f.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  });
  return { challengeId: await storeChallenge(deps, tenant.id, user.id, 'register', options.challenge), options };
}

/** Verifies a registration and returns the new (unsaved) passkey factor, or a reason it failed. */
export async function verifyRegistration(deps: Deps, tenant: Tenant, userId: string, challengeId: string, response: unknown, name: string): Promise<Factor | { error: string }> {
  const stored = await factorStore.takeChallenge(deps.db, tenant.id, challengeId, 'register', deps.clock());
  if (!stored || stored.userId !== userId) return { error: 'challenge_invalid' };
  const { rpID, origin } = relyingParty(deps);
  try {
    const result = await verifyRegistrationResponse({ response: response as RegistrationResponseJSON, expectedChallenge: stored.challenge, expectedOrigin: origin, expectedRPID: rpID, requireUserVerification: false });
    if (!result.verified) return { error: 'registration_unverified' };
    const { credential, credentialDeviceType } = result.registrationInfo;
    return {
      id: newId(),
      tenantId: tenant.id,
      userId,
      type: 'passkey',
      name,
      confirmed: true,
      sealedSecret: null,
      lastStep: null,
      credentialId: credential.id,
      publicKey: Buffer.from(credential.publicKey).toString('base64url'),
      counter: credential.counter,
      transports: credential.transports ?? [],
      deviceType: credentialDeviceType,
      createdAt: deps.clock(),
      lastUsedAt: null,
    };
  } catch (error) {
    return { error: `registration_invalid: ${error instanceof Error ? error.message.slice(0, 200) : 'unknown'}` };
  }
}

/**
 * Options for an authentication ceremony: with `user` (second factor after a password) only that
 * user's passkeys are allowed; without (passwordless) any discoverable passkey, with user verification required.
 */
export async function authenticationOptions(deps: Deps, tenant: Tenant, user: { id: string; factors: Factor[] } | null): Promise<Ceremony<PublicKeyCredentialRequestOptionsJSON>> {
  const options = await generateAuthenticationOptions({
    rpID: relyingParty(deps).rpID,
    userVerification: user ? 'preferred' : 'required',
    allowCredentials: user ? user.factors.filter((f) => f.type === 'passkey' && f.credentialId).map((f) => ({ id: f.credentialId as string, transports: f.transports as never })) : [],
  });
  return { challengeId: await storeChallenge(deps, tenant.id, user?.id ?? null, user ? 'second_factor' : 'authenticate', options.challenge), options };
}

export interface PasskeyAssertion {
  factor: Factor;
  userVerified: boolean;
  /** RFC 8176: `hwk` for a device-bound key, `swk` for a synced one. */
  amr: 'hwk' | 'swk';
}

/** Verifies an assertion; for a second factor `userId` is the user who gave the password. */
export async function verifyAssertion(deps: Deps, tenant: Tenant, challengeId: string, response: unknown, userId: string | null): Promise<PasskeyAssertion | { error: string }> {
  const purpose: CeremonyPurpose = userId ? 'second_factor' : 'authenticate';
  const stored = await factorStore.takeChallenge(deps.db, tenant.id, challengeId, purpose, deps.clock());
  if (!stored || stored.userId !== userId) return { error: 'challenge_invalid' };
  const body = response as AuthenticationResponseJSON;
  if (!body || typeof body.id !== 'string') return { error: 'response_malformed' };
  const factor = await factorStore.byCredentialId(deps.db, tenant.id, body.id);
  if (!factor || !factor.publicKey) return { error: 'passkey_unknown' };
  if (userId && factor.userId !== userId) return { error: 'passkey_of_another_user' };
  // WebAuthn §7.2 step 6: a discoverable credential's user handle must name its owner.
  if (!userId && body.response?.userHandle && Buffer.from(body.response.userHandle, 'base64url').toString() !== factor.userId) return { error: 'user_handle_mismatch' };
  const { rpID, origin } = relyingParty(deps);
  try {
    const result = await verifyAuthenticationResponse({
      response: body,
      expectedChallenge: stored.challenge,
      expectedOrigin: origin,
      expectedRPID: rpID,
      credential: { id: factor.credentialId as string, publicKey: Buffer.from(factor.publicKey, 'base64url'), counter: factor.counter ?? 0, transports: factor.transports as never },
      requireUserVerification: userId === null,
    });
    if (!result.verified) return { error: 'assertion_unverified' };
    await factorStore.updateCounter(deps.db, tenant.id, factor.id, result.authenticationInfo.newCounter, deps.clock());
    return { factor, userVerified: result.authenticationInfo.userVerified, amr: result.authenticationInfo.credentialDeviceType === 'multiDevice' ? 'swk' : 'hwk' };
  } catch (error) {
    return { error: `assertion_invalid: ${error instanceof Error ? error.message.slice(0, 200) : 'unknown'}` };
  }
}
