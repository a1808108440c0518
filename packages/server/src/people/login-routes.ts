import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant } from '../tenants/model.js';
import { formOf, type PeopleContext, pageTenant, paths } from './context.js';
import { advance } from './flow.js';
import { authenticationOptions, verifyAssertion } from './passkeys.js';
import { csrfToken, csrfValid, errorBox, html, type Html, jsonData, sendErrorPage, sendPage } from './page.js';
import { currentSession, endSession, readSession, safeReturnTo } from './session.js';
import { userStore } from './user-store.js';
import { WEBAUTHN_SCRIPT } from './webauthn-client.js';

type TenantParams = { Params: { tenant: string } };

/** The one message for every refused password sign-in (unknown user, wrong password, no password, disabled). */
export const BAD_CREDENTIALS = 'The username or password is incorrect.';

interface LoginView {
  returnTo: string | null;
  mfa: boolean;
  username?: string;
  error?: string;
  status?: number;
  notice?: string;
}

function hiddenFields(csrf: string, view: Pick<LoginView, 'returnTo' | 'mfa'>): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">${view.returnTo ? html`<input type="hidden" name="return_to" value="${view.returnTo}">` : ''}${view.mfa ? html`<input type="hidden" name="mfa" value="required">` : ''}`;
}

async function renderLogin(ctx: PeopleContext, request: FastifyRequest, reply: FastifyReply, tenant: Tenant, view: LoginView): Promise<FastifyReply> {
  const csrf = csrfToken(ctx.deps, request, reply, tenant.id);
  const passkey = await authenticationOptions(ctx.deps, tenant, null);
  const body = html`
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${errorBox(view.error)}
<form method="post" action="${paths.login(tenant)}" id="login-form">
${hiddenFields(csrf, view)}
<label for="username">Username or email</label>
<input id="username" name="username" type="text" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required maxlength="254" value="${view.username ?? ''}" ${view.error ? html`aria-describedby="form-error"` : html`autofocus`}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
<button type="submit">Sign in</button>
</form>
<form method="post" action="${paths.login(tenant)}/passkey" id="passkey-form">
${hiddenFields(csrf, view)}
<input type="hidden" name="challenge" value="${passkey.challengeId}">
<input type="hidden" name="response" value="">
</form>
<button type="button" class="secondary" data-webauthn="get" data-form="passkey-form" data-options="passkey-options" hidden>Sign in with a passkey</button>
<p id="webauthn-status" role="status"></p>
<script type="application/json" id="passkey-options">${jsonData(passkey.options)}</script>`;
  return sendPage(reply, { status: view.status, title: `Sign in to ${tenant.displayName ?? tenant.name}`, body, scripts: [WEBAUTHN_SCRIPT], restrictFormAction: false });
}

function viewFrom(tenant: Tenant, source: Record<string, unknown>): Pick<LoginView, 'returnTo' | 'mfa'> {
  return { returnTo: safeReturnTo(tenant.name, source.return_to) ?? null, mfa: source.mfa === 'required' };
}

/** `/{tenant}/login` (password), `/{tenant}/login/passkey` (passwordless), `/{tenant}/logout`. */
export function registerLoginRoutes(app: FastifyInstance, ctx: PeopleContext): void {
  app.get<TenantParams & { Querystring: Record<string, unknown> }>('/:tenant/login', async (request, reply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const view = viewFrom(tenant, request.query);
    const session = await currentSession(ctx.deps, request, tenant);
    const satisfied = session && request.query.prompt !== 'login' && (!view.mfa || session.amr.includes('mfa'));
    if (satisfied) return reply.redirect(view.returnTo ?? paths.account(tenant), 303);
    const notice = request.query.notice === 'invited' ? 'Your password is saved. Sign in with it.' : undefined;
    return renderLogin(ctx, request, reply, tenant, { ...view, notice });
  });

  app.post<TenantParams>('/:tenant/login', async (request, reply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const form = formOf(request.body);
    const view = viewFrom(tenant, form);
    if (!csrfValid(ctx.deps, request, tenant.id, form.csrf)) {
      return renderLogin(ctx, request, reply, tenant, { ...view, status: 403, error: 'The form expired. Please sign in again.' });
    }
    const username = (form.username ?? '').slice(0, 254);
    const result = await ctx.checks.password(request, tenant, username, (form.password ?? '').slice(0, 1024));
    if (!result.ok) {
      if (result.retryAfterSeconds !== undefined) {
        reply.header('retry-after', String(result.retryAfterSeconds));
        return renderLogin(ctx, request, reply, tenant, { ...view, username, status: 429, error: `Too many failed attempts. Wait ${result.retryAfterSeconds} seconds, then try again.` });
      }
      return renderLogin(ctx, request, reply, tenant, { ...view, username, status: 401, error: BAD_CREDENTIALS });
    }
    return advance(ctx, request, reply, tenant, { userId: result.value.user.id, amr: ['pwd'], authTime: ctx.deps.clock(), returnTo: view.returnTo, requireMfa: view.mfa });
  });

  app.post<TenantParams>('/:tenant/login/passkey', async (request, reply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const form = formOf(request.body);
    const view = viewFrom(tenant, form);
    if (!csrfValid(ctx.deps, request, tenant.id, form.csrf)) {
      return renderLogin(ctx, request, reply, tenant, { ...view, status: 403, error: 'The form expired. Please sign in again.' });
    }
    let response: unknown;
    try {
      response = JSON.parse(form.response ?? '');
    } catch {
      response = undefined;
    }
    const result = await verifyAssertion(ctx.deps, tenant, form.challenge ?? '', response, null);
    const user = 'factor' in result ? await userStore.byId(ctx.deps.db, tenant.id, result.factor.userId) : undefined;
    if (!('factor' in result) || !user || user.status !== 'active') {
      await ctx.checks.passkeyRefused(request, tenant, user?.id ?? null, 'error' in result ? result.error : 'user_inactive');
      return renderLogin(ctx, request, reply, tenant, { ...view, status: 401, error: 'That passkey could not be used to sign in.' });
    }
    const amr = [result.amr, ...(result.userVerified ? ['user', 'mfa'] : [])];
    return advance(ctx, request, reply, tenant, { userId: user.id, amr, authTime: ctx.deps.clock(), returnTo: view.returnTo, requireMfa: view.mfa });
  });

  const logout = async (request: FastifyRequest<TenantParams>, reply: FastifyReply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const session = await readSession(ctx.deps, request, tenant);
    if (!csrfValid(ctx.deps, request, tenant.id, formOf(request.body).csrf, session?.id ?? '')) {
      return sendErrorPage(reply, 403, 'Sign-out failed', 'The form expired. Reload the page and try again.');
    }
    await endSession(ctx.deps, request, reply, tenant);
    return renderLogin(ctx, request, reply, tenant, { returnTo: null, mfa: false, notice: 'You are signed out.' });
  };
  app.post<TenantParams>('/:tenant/logout', logout);
}
