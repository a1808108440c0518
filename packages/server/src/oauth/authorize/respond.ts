import type { FastifyReply } from 'fastify';
import type { OAuthError } from '../../errors.js';
import { html, sendPage } from '../../people/page.js';

/** How the authorization response reaches the client (OAuth 2.0 Multiple Response Types §2.1, Form Post Response Mode). */
export const RESPONSE_MODES = ['query', 'form_post'] as const;
export type ResponseMode = (typeof RESPONSE_MODES)[number];

/** Where and how to answer: the client's (already validated) redirect URI and the response mode it asked for. */
export interface ClientEndpoint {
  redirectUri: string;
  /** Absent in requests stored before form_post was supported: query. */
  responseMode?: ResponseMode | undefined;
}

/**
 * Sends the authorization response to the client, always with `iss` (RFC 9207 §2).
 * - `query` (RFC 6749 §4.1.2): a 303 (never 307, so a POSTed form is not re-posted: RFC 9700
 *   §4.12) to the redirect URI with the parameters in its query.
 * - `form_post` (OAuth 2.0 Form Post Response Mode): a page whose form POSTs them to the redirect
 *   URI as soon as it loads (a button without JavaScript); the code never appears in a URL, a
 *   history entry or a Referer. The page's CSP allows that one form target and its one script.
 */
export function respondToClient(reply: FastifyReply, to: ClientEndpoint, issuer: string, params: Record<string, string | null | undefined>): FastifyReply {
  const fields = Object.entries({ ...params, iss: issuer }).filter((e): e is [string, string] => e[1] !== null && e[1] !== undefined);
  if (to.responseMode === 'form_post') {
    const inputs = fields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`);
    return sendPage(reply, {
      title: 'Returning to the application',
      body: html`<form method="post" action="${to.redirectUri}" id="response">${inputs}<noscript><button type="submit">Continue</button></noscript></form>`,
      scripts: ["document.getElementById('response').submit();"],
      formAction: to.redirectUri,
    });
  }
  const url = new URL(to.redirectUri);
  for (const [name, value] of fields) url.searchParams.set(name, value);
  return reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(url.toString(), 303);
}

/** RFC 6749 §4.1.2.1: the error, its description and the client's state, to the redirect URI. */
export function respondWithError(reply: FastifyReply, to: ClientEndpoint, issuer: string, state: string | null, error: OAuthError): FastifyReply {
  return respondToClient(reply, to, issuer, { error: error.error, error_description: error.description, state });
}
