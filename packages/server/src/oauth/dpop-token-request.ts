import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Deps } from '../context.js';
import { oauthErrors } from '../errors.js';
import { blueprintFor, requiresDpop } from '../policy/blueprint-policy.js';
import type { Principal } from '../principals/model.js';
import type { Tenant } from '../tenants/model.js';
import { DPOP_PROOF_MAX_AGE_S, dpopHeader, type DpopProof, verifyDpopProof } from './dpop.js';
import type { DpopNonces } from './dpop-nonce.js';
import { rememberJti } from './replay.js';

/** Slack for clocks of other nodes when remembering a proof's jti. */
const CLOCK_TOLERANCE_S = 10;

export interface TokenRequestProofContext {
  tenant: Tenant;
  request: FastifyRequest;
  reply: FastifyReply;
  /** The token endpoint URL as published in metadata: what `htu` must name. */
  tokenUrl: string;
  nonces: DpopNonces;
}

/**
 * The DPoP proof of a token request (RFC 9449 §5), verified, or undefined when none was sent.
 * With SIGNET_DPOP_NONCE=required every response to a DPoP request carries a fresh `DPoP-Nonce`
 * (errors too, so `use_dpop_nonce` tells the client what to send, §8). A proof is single-use: its
 * `jti` is remembered, on every node through the database, until its `iat` is too old to pass.
 */
export async function tokenRequestProof(deps: Deps, ctx: TokenRequestProofContext): Promise<DpopProof | undefined> {
  const proof = dpopHeader(ctx.request);
  if (proof === undefined) return undefined;
  const nonceRequired = deps.config.dpopNonce === 'required';
  if (nonceRequired) ctx.reply.header('dpop-nonce', ctx.nonces.current(ctx.tenant.id));
  const verified = await verifyDpopProof(proof, {
    method: ctx.request.method,
    url: ctx.tokenUrl,
    now: deps.clock(),
    nonce: nonceRequired ? (nonce) => ctx.nonces.isValid(ctx.tenant.id, nonce) : undefined,
  });
  const keepUntil = (verified.iat + DPOP_PROOF_MAX_AGE_S + CLOCK_TOLERANCE_S) * 1000;
  if (!(await rememberJti(deps.db, ctx.tenant.id, `dpop:${verified.jkt}`, verified.jti, keepUntil))) {
    throw oauthErrors.invalidDpopProof('the DPoP proof was already used');
  }
  return verified;
}

/**
 * Why tokens for `principal` must be DPoP-bound, or undefined when a bearer token is allowed:
 * the principal itself requires it, or the blueprint it was created from does (RFC 9449 §5.2).
 */
export async function dpopRequirement(deps: Pick<Deps, 'db' | 'cache'>, tenantId: string, principal: Principal): Promise<string | undefined> {
  if (principal.requireDpop) return 'this client requires DPoP-bound tokens';
  if (requiresDpop(principal, await blueprintFor(deps, tenantId, principal))) return 'this agent\'s blueprint requires DPoP-bound tokens';
  return undefined;
}
