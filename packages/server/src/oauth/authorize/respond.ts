import type { FastifyReply } from 'fastify';
import type { OAuthError } from '../../errors.js';

/**
 * Sends the browser to the client's (already validated) redirect URI with `params` added to its
 * query (RFC 6749 §4.1.2), always with `iss` (RFC 9207 §2). 303, never 307, so a POSTed form is
 * not re-posted to the client (RFC 9700 §4.12).
 */
export function redirectToClient(reply: FastifyReply, redirectUri: string, issuer: string, params: Record<string, string | null | undefined>): FastifyReply {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== null && value !== undefined) url.searchParams.set(name, value);
  url.searchParams.set('iss', issuer);
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(url.toString(), 303);
}

/** RFC 6749 §4.1.2.1: the error, its description and the client's state, to the redirect URI. */
export function redirectError(reply: FastifyReply, redirectUri: string, issuer: string, state: string | null, error: OAuthError): FastifyReply {
  return redirectToClient(reply, redirectUri, issuer, { error: error.error, error_description: error.description, state });
}
