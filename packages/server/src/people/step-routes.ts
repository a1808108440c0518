import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant } from '../tenants/model.js';
import { AccountError } from './account-service.js';
import { formOf, type PeopleContext, pageTenant, paths } from './context.js';
import { advance, advanceTo, STEP_PATHS, withFactor } from './flow.js';
import { authenticationOptions, verifyAssertion } from './passkeys.js';
import { csrfToken, csrfValid, errorBox, html, jsonData, sendPage } from './page.js';
import { readSession } from './session.js';
import type { SessionRecord, SessionState } from './session-store.js';
import { userStore } from './user-store.js';
import { passwordFields, recoveryCodesList, totpEnrolmentForm } from './views.js';
import { WEBAUTHN_SCRIPT } from './webauthn-client.js';

type TenantParams = { Params: { tenant: string } };
type Handler = (tenant: Tenant, record: SessionRecord, request: FastifyRequest<TenantParams>, reply: FastifyReply) => Promise<FastifyReply>;

/** Runs `handler` only for a sign-in waiting at `state` (with a valid CSRF token on POST); else back to the sign-in page. */
function atStep(ctx: PeopleContext, state: SessionState, handler: Handler) {
  return async (request: FastifyRequest<TenantParams>, reply: FastifyReply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const record = await readSession(ctx.deps, request, tenant);
    if (!record || record.state !== state) return reply.redirect(paths.login(tenant), 303);
    if (request.method === 'POST' && !csrfValid(ctx.deps, request, tenant.id, formOf(request.body).csrf, record.id)) {
      return reply.redirect(paths.login(tenant), 303);
    }
    return handler(tenant, record, request, reply);
  };
}

const progressOf = (r: SessionRecord) => ({ userId: r.userId, amr: r.amr, authTime: r.authTime, returnTo: r.returnTo, requireMfa: r.requireMfa });

/** Second factor, temporary-password change and required MFA enrolment: the steps between password and session. */
export function registerStepRoutes(app: FastifyInstance, ctx: PeopleContext): void {
  const mfaPage = async (tenant: Tenant, record: SessionRecord, request: FastifyRequest, reply: FastifyReply, error?: string, status?: number) => {
    const csrf = csrfToken(ctx.deps, request, reply, tenant.id, record.id);
    const factors = await ctx.accounts.factors(tenant, record.userId);
    const hasTotp = factors.some((f) => f.type === 'totp' && f.confirmed);
    const passkeys = factors.filter((f) => f.type === 'passkey');
    const ceremony = passkeys.length > 0 ? await authenticationOptions(ctx.deps, tenant, { id: record.userId, factors }) : undefined;
    const action = `/${tenant.name}/${STEP_PATHS.mfa}`;
    const body = html`
${errorBox(error)}
${hasTotp ? html`<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="method" value="totp">
<label for="code">Code from your authenticator app</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7" autofocus>
<button type="submit">Verify</button>
</form>` : ''}
${ceremony ? html`<form method="post" action="${action}" id="passkey-form">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="method" value="passkey">
<input type="hidden" name="challenge" value="${ceremony.challengeId}"><input type="hidden" name="response" value="">
</form>
<button type="button" ${hasTotp ? html`class="secondary"` : ''} data-webauthn="get" data-form="passkey-form" data-options="passkey-options" hidden>Use a passkey</button>
<p id="webauthn-status" role="status"></p>
<script type="application/json" id="passkey-options">${jsonData(ceremony.options)}</script>` : ''}
<details><summary>Use a recovery code</summary>
<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="method" value="recovery">
<label for="recovery-code">Recovery code</label>
<input id="recovery-code" name="code" type="text" autocomplete="off" autocapitalize="none" spellcheck="false" required maxlength="20">
<button type="submit">Use recovery code</button>
</form></details>`;
    return sendPage(reply, { status, title: 'Second step', body, scripts: ceremony ? [WEBAUTHN_SCRIPT] : [], restrictFormAction: false });
  };

  app.get<TenantParams>(`/:tenant/${STEP_PATHS.mfa}`, atStep(ctx, 'mfa', (tenant, record, request, reply) => mfaPage(tenant, record, request, reply)));

  app.post<TenantParams>(`/:tenant/${STEP_PATHS.mfa}`, atStep(ctx, 'mfa', async (tenant, record, request, reply) => {
    const form = formOf(request.body);
    let methods: string[] | undefined;
    let error = 'That code is not valid. Try the current code.';
    let retryAfter: number | undefined;
    if (form.method === 'totp') {
      const result = await ctx.checks.totp(request, tenant, record.userId, form.code ?? '');
      if (result.ok) methods = ['otp'];
      else retryAfter = result.retryAfterSeconds;
    } else if (form.method === 'recovery') {
      const result = await ctx.checks.recoveryCode(request, tenant, record.userId, form.code ?? '');
      if (result.ok) methods = ['otp'];
      else {
        retryAfter = result.retryAfterSeconds;
        error = 'That recovery code is not valid or was already used.';
      }
    } else if (form.method === 'passkey') {
      let response: unknown;
      try {
        response = JSON.parse(form.response ?? '');
      } catch {
        response = undefined;
      }
      const result = await verifyAssertion(ctx.deps, tenant, form.challenge ?? '', response, record.userId);
      if ('factor' in result) methods = [result.amr, ...(result.userVerified ? ['user'] : [])];
      else {
        await ctx.checks.passkeyRefused(request, tenant, record.userId, result.error);
        error = 'That passkey could not be verified.';
      }
    }
    if (!methods) {
      if (retryAfter !== undefined) {
        reply.header('retry-after', String(retryAfter));
        return mfaPage(tenant, record, request, reply, `Too many failed attempts. Wait ${retryAfter} seconds, then try again.`, 429);
      }
      return mfaPage(tenant, record, request, reply, error, 401);
    }
    return advance(ctx, request, reply, tenant, { ...progressOf(record), amr: withFactor(record.amr, ...methods) });
  }));

  const passwordPage = (tenant: Tenant, record: SessionRecord, request: FastifyRequest, reply: FastifyReply, error?: string) => {
    const csrf = csrfToken(ctx.deps, request, reply, tenant.id, record.id);
    return sendPage(reply, {
      status: error ? 400 : 200,
      title: 'Choose a new password',
      restrictFormAction: false,
      body: html`<p>Your password was set by an administrator. Choose your own to continue.</p>
${errorBox(error)}
<form method="post" action="/${tenant.name}/${STEP_PATHS.password_change}">
<input type="hidden" name="csrf" value="${csrf}">
${passwordFields(false)}
<button type="submit">Save password</button>
</form>`,
    });
  };

  app.get<TenantParams>(`/:tenant/${STEP_PATHS.password_change}`, atStep(ctx, 'password_change', async (tenant, record, request, reply) => passwordPage(tenant, record, request, reply)));

  app.post<TenantParams>(`/:tenant/${STEP_PATHS.password_change}`, atStep(ctx, 'password_change', async (tenant, record, request, reply) => {
    const form = formOf(request.body);
    if ((form.new_password ?? '') !== (form.confirm_password ?? '')) return passwordPage(tenant, record, request, reply, 'The two passwords are not the same.');
    const user = await userStore.byId(ctx.deps.db, tenant.id, record.userId);
    if (!user) return reply.redirect(paths.login(tenant), 303);
    try {
      await ctx.accounts.choosePassword(request, tenant, user, form.new_password ?? '', record.id);
    } catch (error) {
      if (error instanceof AccountError) return passwordPage(tenant, record, request, reply, error.message);
      throw error;
    }
    return advance(ctx, request, reply, tenant, progressOf(record));
  }));

  const enrolPage = async (tenant: Tenant, record: SessionRecord, request: FastifyRequest, reply: FastifyReply, factorId?: string, error?: string) => {
    const user = await userStore.byId(ctx.deps.db, tenant.id, record.userId);
    if (!user) return reply.redirect(paths.login(tenant), 303);
    const enrolment = (factorId ? await ctx.accounts.pendingTotp(tenant, user, factorId) : undefined) ?? (await ctx.accounts.startTotp(tenant, user));
    const csrf = csrfToken(ctx.deps, request, reply, tenant.id, record.id);
    return sendPage(reply, {
      status: error ? 400 : 200,
      title: 'Set up two-step sign-in',
      restrictFormAction: false,
      body: html`<p>Signing in here needs a second step. Set up an authenticator app to continue.</p>${errorBox(error)}${totpEnrolmentForm(`/${tenant.name}/${STEP_PATHS.mfa_enroll}`, csrf, enrolment)}`,
    });
  };

  app.get<TenantParams>(`/:tenant/${STEP_PATHS.mfa_enroll}`, atStep(ctx, 'mfa_enroll', (tenant, record, request, reply) => enrolPage(tenant, record, request, reply)));

  app.post<TenantParams>(`/:tenant/${STEP_PATHS.mfa_enroll}`, atStep(ctx, 'mfa_enroll', async (tenant, record, request, reply) => {
    const form = formOf(request.body);
    const codes = await ctx.accounts.confirmTotp(request, tenant, record.userId, form.factor ?? '', form.code ?? '');
    if (!codes) return enrolPage(tenant, record, request, reply, form.factor, 'That code is not valid. Try the current code.');
    // The sign-in is complete (the code just proved the new factor): show the recovery codes once, then continue.
    const amr = withFactor(record.amr, 'otp');
    const target = await advanceTo(ctx, request, reply, tenant, { ...progressOf(record), amr });
    return sendPage(reply, {
      title: 'Two-step sign-in is on',
      restrictFormAction: false,
      body: html`${recoveryCodesList(codes)}<p><a href="${target}" id="continue">Continue</a></p>`,
    });
  }));
}
