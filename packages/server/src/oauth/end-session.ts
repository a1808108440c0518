import type { FastifyReply } from 'fastify';
import { compactVerify, decodeProtectedHeader, importJWK } from 'jose';
import { isId } from '../crypto/ids.js';
import { PageError, pageErrors } from '../errors.js';
import { currentSession, endSession } from '../people/session.js';
import { csrfToken, csrfValid, html, sendPage } from '../people/page.js';
import type { FlowContext } from './authorize/flow.js';
import type { AuthorizationParams } from './authorize/params.js';
import { respondToClient } from './authorize/respond.js';

interface HintClaims {
  sub: string;
  aud: string;
}

/** The id_token_hint, if Signet signed it for this tenant; expiry is ignored (OIDC RP-Initiated Logout §2). */
async function verifiedHint(ctx: FlowContext, token: string): Promise<HintClaims> {
  const invalid = () => new PageError(400, 'Cannot sign you out from here', 'The application sent an ID token this service did not issue.');
  try {
    const { kid, alg } = decodeProtectedHeader(token);
    const jwk = kid ? await ctx.deps.keys.publicKey(ctx.tenant.id, kid) : undefined;
    if (!jwk || jwk.alg !== alg) throw invalid();
    const { payload } = await compactVerify(token, await importJWK(jwk, jwk.alg));
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    const aud = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    if (claims.iss !== ctx.issuer || typeof claims.sub !== 'string' || typeof aud !== 'string') throw invalid();
    return { sub: claims.sub, aud };
  } catch (error) {
    if (error instanceof PageError) throw error;
    throw invalid();
  }
}

/**
 * OpenID Connect RP-Initiated Logout 1.0: ends the sign-in session and, when the client names a
 * post_logout_redirect_uri registered for it (exact match), sends the browser there with `state`.
 * Without a valid id_token_hint for the signed-in user, the user confirms first (a form with a
 * CSRF token), so a third-party page cannot sign people out.
 */
export async function logout(ctx: FlowContext, params: AuthorizationParams, confirmed: boolean): Promise<FastifyReply> {
  const v = params.values;
  if (params.repeated.size > 0) throw new PageError(400, 'Cannot sign you out from here', 'The request repeats a parameter.');
  const hint = v.id_token_hint ? await verifiedHint(ctx, v.id_token_hint) : null;
  if (hint && v.client_id !== undefined && v.client_id !== hint.aud) throw new PageError(400, 'Cannot sign you out from here', 'client_id does not match the ID token.');
  const clientId = hint?.aud ?? v.client_id;
  let redirect: string | null = null;
  if (v.post_logout_redirect_uri !== undefined) {
    const registration = clientId && isId(clientId) ? await ctx.services.oauthClients.forProtocol(ctx.tenant.id, clientId) : undefined;
    if (!registration?.postLogoutRedirectUris.includes(v.post_logout_redirect_uri)) {
      throw pageErrors.badClient('The address to return to after signing out is not registered for this application.');
    }
    redirect = v.post_logout_redirect_uri;
  }
  const session = await currentSession(ctx.deps, ctx.request, ctx.tenant);
  if (session && !confirmed && hint?.sub !== session.userId) {
    const csrf = csrfToken(ctx.deps, ctx.request, ctx.reply, ctx.tenant.id, session.id);
    const keep = Object.entries(v).filter(([name]) => ['id_token_hint', 'client_id', 'post_logout_redirect_uri', 'state'].includes(name));
    return sendPage(ctx.reply, {
      title: 'Sign out?',
      restrictFormAction: false,
      body: html`<form method="post" action="/${ctx.tenant.name}/oauth2/logout">
<input type="hidden" name="csrf" value="${csrf}">
${keep.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value ?? ''}">`)}
<p>Do you want to sign out of ${ctx.tenant.displayName ?? ctx.tenant.name}?</p>
<button type="submit" name="confirm" value="yes">Sign out</button>
</form>`,
    });
  }
  if (session && confirmed && hint?.sub !== session.userId) {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (!csrfValid(ctx.deps, ctx.request, ctx.tenant.id, body.csrf, session.id)) throw pageErrors.formExpired();
  }
  await endSession(ctx.deps, ctx.request, ctx.reply, ctx.tenant);
  if (redirect) return respondToClient(ctx.reply, { redirectUri: redirect }, ctx.issuer, { state: v.state });
  return sendPage(ctx.reply, { title: 'You are signed out', body: html`<p class="notice" role="status">You are signed out of ${ctx.tenant.displayName ?? ctx.tenant.name}.</p>` });
}
