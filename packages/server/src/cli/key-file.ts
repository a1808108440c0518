import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { CliError } from './errors.js';
import type { JsonObject } from './json.js';

/** A client's private key for private_key_jwt, with the JWS algorithm it signs with. */
export interface SigningKey {
  key: KeyObject;
  alg: string;
  kid?: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const CURVE_ALGS: Record<string, string> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError('file_unreadable', `cannot read ${what} ${path} (${(error as NodeJS.ErrnoException).code ?? 'unknown error'})`);
  }
}

function parseJwk(text: string, path: string): JsonObject | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as JsonObject;
  } catch {
    throw new CliError('invalid_key', `${path} is not valid JSON`);
  }
}

/** The JWS algorithm for a key: ES256/384/512 by curve, EdDSA for Ed25519, RS256 or PS256 for RSA. */
export function algorithmFor(key: KeyObject): string {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const alg = CURVE_ALGS[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (alg) return alg;
  }
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'rsa') return 'RS256';
  if (type === 'rsa-pss') return 'PS256';
  throw new CliError('invalid_key', `unsupported key type ${type ?? 'unknown'} (use EC P-256/P-384/P-521, Ed25519 or RSA)`);
}

/** Reads a private key from a PEM file or a private JWK; `alg` and `kid` come from the JWK when present. */
export async function readSigningKey(path: string): Promise<SigningKey> {
  const text = await readText(path, 'key file');
  const jwk = parseJwk(text, path);
  let key: KeyObject;
  try {
    if (jwk && typeof jwk.d !== 'string') throw new CliError('invalid_key', `${path} holds a public key; --key needs the private key`);
    key = jwk ? createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) : createPrivateKey(text);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError('invalid_key', `${path} is not a private key in PEM or JWK form`);
  }
  const signing: SigningKey = { key, alg: typeof jwk?.alg === 'string' ? jwk.alg : algorithmFor(key) };
  if (typeof jwk?.kid === 'string') signing.kid = jwk.kid;
  return signing;
}

/**
 * Reads the public JWK to register from a JWK (public or private) or a PEM key. Private members are
 * never sent: a private key is reduced to its public half, keeping `kid` and `alg`.
 */
export async function readPublicJwk(path: string): Promise<JsonObject> {
  const text = await readText(path, 'key file');
  const jwk = parseJwk(text, path);
  if (jwk && !PRIVATE_MEMBERS.some((member) => member in jwk)) return jwk;
  let publicJwk: JsonObject;
  try {
    const key = jwk ? createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' }) : createPublicKey(text);
    publicJwk = key.export({ format: 'jwk' }) as JsonObject;
  } catch {
    throw new CliError('invalid_key', `${path} is not a key in JWK or PEM form`);
  }
  if (typeof jwk?.kid === 'string') publicJwk.kid = jwk.kid;
  if (typeof jwk?.alg === 'string') publicJwk.alg = jwk.alg;
  return publicJwk;
}
