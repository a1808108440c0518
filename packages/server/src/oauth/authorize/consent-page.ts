import type { FastifyReply } from 'fastify';
import { IDENTITY_RESOURCE } from '../../consents/model.js';
import type { ConsentDecision } from '../../consents/service.js';
import { pageErrors } from '../../errors.js';
import { currentSession, signInUrl, type SignInSession } from '../../people/session.js';
import { csrfToken, csrfValid, html, sendPage } from '../../people/page.js';
import { rulesFor } from '../../principals/kinds.js';
import type { Principal } from '../../principals/model.js';
import { principalStore } from '../../principals/store.js';
import type { Resource } from '../../resources/model.js';
import { resourceStore } from '../../resources/store.js';
import { oauthErrors } from '../../errors.js';
import type { PendingAuthorization } from '../tokens/request-store.js';
import { continuePath, type FlowContext, issueCode, pendingRequest, refuse } from './flow.js';
import { consentResourceOf, coverage, describeScope, isIdentityScope } from './scopes.js';

interface ConsentSubject {
  pending: PendingAuthorization;
  session: SignInSession;
  client: Principal;
  /** The application registered itself (RFC 7591): nobody has checked who runs it. */
  selfRegistered: boolean;
  resource: Resource | null;
  /** Scopes the user cannot decline: openid (the sign-in itself) and the client's required scopes. */
  required: string[];
}

/** The pending request, its signed-in user, and what the page shows; redirects to sign-in when there is no session. */
async function subjectOf(ctx: FlowContext, requestId: unknown): Promise<ConsentSubject | FastifyReply> {
  const pending = await pendingRequest(ctx, requestId);
  const session = await currentSession(ctx.deps, ctx.request, ctx.tenant);
  if (!session) return ctx.reply.redirect(signInUrl(ctx.issuer, continuePath(ctx.tenant, pending.id)), 303);
  const client = await principalStore.get(ctx.deps.db, ctx.tenant.id, pending.clientId);
  const registration = await ctx.services.oauthClients.forProtocol(ctx.tenant.id, pending.clientId);
  if (!client || client.status !== 'active' || !registration) throw pageErrors.badClient('The application is no longer available.');
  const resource = pending.resource ? ((await resourceStore.byIdentifier(ctx.deps.db, ctx.tenant.id, pending.resource)) ?? null) : null;
  const required = pending.scope.filter((s) => s === 'openid' || registration.requiredScopes.includes(s));
  return { pending, session, client, selfRegistered: registration.selfRegistered, resource, required };
}

/** Who the client is, in plain words; an AI agent is named as one, with the people accountable for it. */
async function clientDescription(ctx: FlowContext, client: Principal) {
  const rules = rulesFor(client.kind);
  if (!rules.requiresSponsor) return html`<p><strong>${client.displayName}</strong> (an ${rules.consentLabel}) wants to act for you.</p>`;
  const sponsors: string[] = [];
  for (const id of client.sponsors) sponsors.push((await principalStore.get(ctx.deps.db, ctx.tenant.id, id))?.displayName ?? id);
  return html`<p class="error" role="note"><strong>${client.displayName} is an ${rules.consentLabel}</strong>, not a person. It will act for you on its own.
    Accountable for it: <strong>${sponsors.join(', ')}</strong>.</p>`;
}

/** For an application that registered itself: its name is its own claim; where it runs is what can be shown. */
function unverifiedWarning(redirectUri: string) {
  const target = new URL(redirectUri);
  const where = target.protocol === 'https:' || target.protocol === 'http:' ? target.host : `${target.protocol} (an app on this device)`;
  return html`<p class="error" role="note"><strong>This application registered itself.</strong> Nobody at your organisation has checked
    who runs it or that its name is true. It will receive your answer at <strong>${where}</strong>. Allow it only if you started
    this sign-in from it.</p>`;
}

export async function showConsent(ctx: FlowContext, requestId: unknown): Promise<FastifyReply> {
  const subject = await subjectOf(ctx, requestId);
  if (!('pending' in subject)) return subject;
  const { pending, session, client, selfRegistered, resource, required } = subject;
  const csrf = csrfToken(ctx.deps, ctx.request, ctx.reply, ctx.tenant.id, session.id);
  const already = new Set(coverage(pending.scope, pending.resource, await ctx.services.consents.live(ctx.tenant.id, session.userId, client.id)).covered);
  const groups = [
    { title: 'Your identity at this sign-in service', resource: IDENTITY_RESOURCE, scopes: pending.scope.filter(isIdentityScope) },
    ...(resource ? [{ title: `${resource.displayName} (${resource.identifier})`, resource: resource.identifier, scopes: pending.scope.filter((s) => !isIdentityScope(s)) }] : []),
  ].filter((g) => g.scopes.length > 0);
  const scopeItem = (scope: string) => {
    const label = html`<code>${scope}</code>: ${describeScope(scope, resource)}`;
    if (required.includes(scope)) return html`<li>${label} <span class="hint">(required)</span></li>`;
    const id = `scope-${scope.replace(/[^A-Za-z0-9]/g, '_')}`;
    return html`<li><input type="checkbox" name="scope" value="${scope}" id="${id}" checked> <label for="${id}">${label}</label>${already.has(scope) ? html` <span class="hint">(allowed before)</span>` : ''}</li>`;
  };
  return sendPage(ctx.reply, {
    title: `Allow ${client.displayName}?`,
    restrictFormAction: false,
    body: html`${await clientDescription(ctx, client)}${selfRegistered ? unverifiedWarning(pending.redirectUri) : ''}
<form method="post" action="/${ctx.tenant.name}/oauth2/consent">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="request" value="${pending.id}">
${groups.map((g) => html`<h2>${g.title}</h2><ul>${g.scopes.map(scopeItem)}</ul>`)}
<p class="hint">You can withdraw this at any time from your account page. Unticked permissions are not given.</p>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  });
}

export async function decideConsent(ctx: FlowContext, body: Record<string, unknown>): Promise<FastifyReply> {
  const subject = await subjectOf(ctx, body.request);
  if (!('pending' in subject)) return subject;
  const { pending, session, client, required } = subject;
  if (!csrfValid(ctx.deps, ctx.request, ctx.tenant.id, body.csrf, session.id)) throw pageErrors.formExpired();
  const target = { ...pending, clientId: client.id };
  if (body.decision !== 'allow') return refuse(ctx, target, oauthErrors.accessDenied('the user declined'), session.userId);

  const ticked = new Set(typeof body.scope === 'string' ? [body.scope] : Array.isArray(body.scope) ? body.scope.filter((s): s is string => typeof s === 'string') : []);
  const chosen = pending.scope.filter((s) => required.includes(s) || ticked.has(s));
  const byResource = new Map<string, string[]>();
  for (const scope of chosen) {
    const where = consentResourceOf(scope, pending.resource);
    byResource.set(where, [...(byResource.get(where) ?? []), scope]);
  }
  const decisions: ConsentDecision[] = [...byResource].map(([resource, scopes]) => ({ resource, scopes }));
  const saved = await ctx.services.consents.recordUserConsent(ctx.tenant, session.userId, client.id, decisions, { ip: ctx.request.ip, requestId: ctx.request.id });
  const { consentIds } = coverage(chosen, pending.resource, saved);
  return issueCode(ctx, pending, session, chosen, consentIds);
}
