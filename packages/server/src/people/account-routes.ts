import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';
import type { Tenant } from '../tenants/model.js';
import { AccountError } from './account-service.js';
import { formOf, type PeopleContext, pageTenant, paths } from './context.js';
import type { Factor } from './factor-store.js';
import { registrationOptions, verifyRegistration } from './passkeys.js';
import { csrfToken, csrfValid, errorBox, html, type Html, jsonData, sendErrorPage, sendPage } from './page.js';
import { currentSession, type SignInSession, signInUrl } from './session.js';
import { type SignInUser, userStore } from './user-store.js';
import { passwordFields, recoveryCodesList, totpEnrolmentForm } from './views.js';
import { WEBAUTHN_SCRIPT } from './webauthn-client.js';

type Params = { Params: { tenant: string; id?: string } };

/** Messages the account page shows after an action (by key: nothing from the URL is ever echoed). */
const NOTICES: Record<string, string> = {
  totp: 'Your authenticator app is set up.',
  passkey: 'Your passkey is saved.',
  removed: 'The sign-in method was removed.',
  password: 'Your password is changed. Your other sessions were signed out.',
  revoked: 'Access was revoked.',
};

/** Removing a factor or replacing recovery codes needs a sign-in this recent (OWASP: re-authenticate for sensitive changes). */
const RECENT_AUTH_S = 15 * 60;

interface Signed {
  tenant: Tenant;
  session: SignInSession;
  user: SignInUser;
  csrf: string;
}

const dateOf = (ms: number | null) => (ms === null ? 'never' : new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + ' UTC');

/** `/{tenant}/account`: the signed-in person's sign-in methods, password and consents. */
export function registerAccountRoutes(app: FastifyInstance, ctx: PeopleContext): void {
  /** Resolves the signed-in user (else redirects to sign in, coming back here) and checks CSRF on POST. */
  const signedIn = (handler: (s: Signed, request: FastifyRequest<Params>, reply: FastifyReply) => Promise<FastifyReply>) => async (request: FastifyRequest<Params>, reply: FastifyReply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const session = await currentSession(ctx.deps, request, tenant);
    const user = session && (await userStore.byId(ctx.deps.db, tenant.id, session.userId));
    if (!session || !user) return reply.redirect(signInUrl(ctx.services.tenants.issuer(tenant), paths.account(tenant)), 303);
    if (request.method === 'POST' && !csrfValid(ctx.deps, request, tenant.id, formOf(request.body).csrf, session.id)) {
      return sendErrorPage(reply, 403, 'Request refused', 'The form expired. Go back, reload the page and try again.');
    }
    return handler({ tenant, session, user, csrf: csrfToken(ctx.deps, request, reply, tenant.id, session.id) }, request, reply);
  };
  const recent = (s: Signed) => ctx.deps.clock() / 1000 - s.session.authTime <= RECENT_AUTH_S;
  const reauthenticate = (s: Signed, reply: FastifyReply) => reply.redirect(signInUrl(ctx.services.tenants.issuer(s.tenant), paths.account(s.tenant), { forceLogin: true }), 303);
  const back = (s: Signed, reply: FastifyReply, notice: keyof typeof NOTICES) => reply.redirect(`${paths.account(s.tenant)}?notice=${notice}`, 303);
  const base = (s: Signed) => paths.account(s.tenant);

  const consentsSection = async (s: Signed): Promise<Html> => {
    const consents = await ctx.services.consents.listForUser(s.tenant, s.user.id);
    if (consents.length === 0) return html`<p>No application or agent can act for you.</p>`;
    const rows = await Promise.all(consents.map(async (c) => {
      const client = await ctx.services.principals.get(s.tenant, c.clientId).catch(() => undefined);
      return html`<tr><td>${client?.displayName ?? c.clientId}${client?.kind === 'agent' ? html` <strong>(AI agent)</strong>` : ''}</td><td>${c.resource}</td><td>${c.scopes.join(' ')}</td><td>${dateOf(c.expiresAt)}</td>
<td><form method="post" action="${base(s)}/consents/${c.id}/revoke" class="inline"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="secondary">Revoke</button></form></td></tr>`;
    }));
    return html`<table><thead><tr><th>Who</th><th>Resource</th><th>Scopes</th><th>Expires</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
  };

  const factorRow = (s: Signed, f: Factor) => html`<tr><td>${f.type === 'totp' ? 'Authenticator app' : html`Passkey: ${f.name}`}</td><td>added ${dateOf(f.createdAt)}</td><td>last used ${dateOf(f.lastUsedAt)}</td>
<td><form method="post" action="${base(s)}/factors/${f.id}/remove" class="inline"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="secondary" aria-label="Remove ${f.type === 'totp' ? 'authenticator app' : `passkey ${f.name}`}">Remove</button></form></td></tr>`;

  const accountPage = async (s: Signed, request: FastifyRequest, reply: FastifyReply, error?: string): Promise<FastifyReply> => {
    const factors = (await ctx.accounts.factors(s.tenant, s.user.id)).filter((f) => f.confirmed);
    const registration = await registrationOptions(ctx.deps, s.tenant, s.user, factors);
    const notice = NOTICES[String((request.query as Record<string, unknown>).notice ?? '')];
    const recoveryLeft = factors.length > 0 ? await ctx.accounts.unusedRecoveryCodes(s.tenant, s.user.id) : 0;
    const body = html`
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}${errorBox(error)}
<p>Signed in as <strong id="who">${s.user.displayName}</strong> (${s.user.username ?? s.user.email ?? s.user.id}).
${s.session.acr.endsWith(':mfa') ? 'This sign-in used two steps.' : 'This sign-in used a password only.'}</p>
<h2>Two-step sign-in</h2>
${factors.length > 0 ? html`<table id="factors"><tbody>${factors.map((f) => factorRow(s, f))}</tbody></table>` : html`<p>Not set up. ${s.tenant.settings.requireMfa ? 'Your organisation requires it.' : ''}</p>`}
${factors.some((f) => f.type === 'totp') ? '' : html`<form method="post" action="${base(s)}/totp"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit">Set up an authenticator app</button></form>`}
<form method="post" action="${base(s)}/passkeys" id="passkey-form">
<input type="hidden" name="csrf" value="${s.csrf}"><input type="hidden" name="challenge" value="${registration.challengeId}"><input type="hidden" name="response" value="">
<label for="passkey-name">Passkey name</label><input id="passkey-name" name="name" type="text" maxlength="60" value="Passkey">
</form>
<button type="button" data-webauthn="create" data-form="passkey-form" data-options="passkey-options" hidden>Add a passkey</button>
<p id="webauthn-unsupported" hidden>This browser cannot create passkeys.</p>
<p id="webauthn-status" role="status"></p>
<script type="application/json" id="passkey-options">${jsonData(registration.options)}</script>
${factors.length > 0 ? html`<h2>Recovery codes</h2><p><span id="recovery-left">${recoveryLeft}</span> unused.</p>
<form method="post" action="${base(s)}/recovery-codes"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="secondary">Make new recovery codes</button></form>` : ''}
<h2>Password</h2>
<form method="post" action="${base(s)}/password"><input type="hidden" name="csrf" value="${s.csrf}">${passwordFields(true)}<button type="submit">Change password</button></form>
<h2>Applications and agents with access</h2>
${await consentsSection(s)}
<h2>Sign out</h2>
<form method="post" action="/${s.tenant.name}/logout"><input type="hidden" name="csrf" value="${s.csrf}"><button type="submit" class="secondary">Sign out</button></form>`;
    return sendPage(reply, { status: error ? 400 : 200, title: 'Your account', body, scripts: [WEBAUTHN_SCRIPT] });
  };

  app.get<Params>('/:tenant/account', signedIn((s, request, reply) => accountPage(s, request, reply)));

  app.post<Params>('/:tenant/account/totp', signedIn(async (s, _request, reply) => {
    const enrolment = await ctx.accounts.startTotp(s.tenant, s.user);
    return sendPage(reply, { title: 'Set up an authenticator app', body: totpEnrolmentForm(`${base(s)}/totp/confirm`, s.csrf, enrolment) });
  }));

  app.post<Params>('/:tenant/account/totp/confirm', signedIn(async (s, request, reply) => {
    const form = formOf(request.body);
    const codes = await ctx.accounts.confirmTotp(request, s.tenant, s.user.id, form.factor ?? '', form.code ?? '');
    if (!codes) {
      const enrolment = await ctx.accounts.pendingTotp(s.tenant, s.user, form.factor ?? '');
      if (!enrolment) return back(s, reply, 'removed');
      return sendPage(reply, { status: 400, title: 'Set up an authenticator app', body: html`${errorBox('That code is not valid. Try the current code.')}${totpEnrolmentForm(`${base(s)}/totp/confirm`, s.csrf, enrolment)}` });
    }
    if (codes.length === 0) return back(s, reply, 'totp');
    return sendPage(reply, { title: 'Your authenticator app is set up', body: html`${recoveryCodesList(codes)}<p><a href="${base(s)}" id="continue">Back to your account</a></p>` });
  }));

  app.post<Params>('/:tenant/account/passkeys', signedIn(async (s, request, reply) => {
    const form = formOf(request.body);
    let response: unknown;
    try {
      response = JSON.parse(form.response ?? '');
    } catch {
      response = undefined;
    }
    const name = (form.name ?? '').trim().slice(0, 60) || 'Passkey';
    const result = await verifyRegistration(ctx.deps, s.tenant, s.user.id, form.challenge ?? '', response, name);
    if ('error' in result) {
      request.log.info({ reason: result.error }, 'passkey registration refused');
      return accountPage(s, request, reply, 'The passkey could not be saved. Try again.');
    }
    const codes = await ctx.accounts.addPasskey(request, s.tenant, result);
    if (codes.length === 0) return back(s, reply, 'passkey');
    return sendPage(reply, { title: 'Your passkey is saved', body: html`${recoveryCodesList(codes)}<p><a href="${base(s)}" id="continue">Back to your account</a></p>` });
  }));

  app.post<Params>('/:tenant/account/factors/:id/remove', signedIn(async (s, request, reply) => {
    if (!recent(s)) return reauthenticate(s, reply);
    await ctx.accounts.removeFactor(request, s.tenant, s.user.id, request.params.id ?? '');
    return back(s, reply, 'removed');
  }));

  app.post<Params>('/:tenant/account/recovery-codes', signedIn(async (s, request, reply) => {
    if (!recent(s)) return reauthenticate(s, reply);
    const codes = await ctx.accounts.regenerateRecoveryCodes(request, s.tenant, s.user.id);
    return sendPage(reply, { title: 'New recovery codes', body: html`<p>Your earlier recovery codes no longer work.</p>${recoveryCodesList(codes)}<p><a href="${base(s)}" id="continue">Back to your account</a></p>` });
  }));

  app.post<Params>('/:tenant/account/password', signedIn(async (s, request, reply) => {
    const form = formOf(request.body);
    if ((form.new_password ?? '') !== (form.confirm_password ?? '')) return accountPage(s, request, reply, 'The two new passwords are not the same.');
    const check = await ctx.checks.password(request, s.tenant, s.user.username ?? s.user.email ?? '', form.current_password ?? '');
    if (!check.ok || check.value.user.id !== s.user.id) return accountPage(s, request, reply, check.ok || check.retryAfterSeconds === undefined ? 'The current password is incorrect.' : `Too many failed attempts. Wait ${check.retryAfterSeconds} seconds.`);
    try {
      await ctx.accounts.choosePassword(request, s.tenant, s.user, form.new_password ?? '', s.session.id);
    } catch (error) {
      if (error instanceof AccountError) return accountPage(s, request, reply, error.message);
      throw error;
    }
    return back(s, reply, 'password');
  }));

  app.post<Params>('/:tenant/account/consents/:id/revoke', signedIn(async (s, request, reply) => {
    try {
      await ctx.services.consents.revokeForUser(s.tenant, s.user.id, request.params.id ?? '', { ip: request.ip, requestId: request.id });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return sendErrorPage(reply, 404, 'Not found', 'There is no such access to revoke.');
      throw error;
    }
    return back(s, reply, 'revoked');
  }));
}
