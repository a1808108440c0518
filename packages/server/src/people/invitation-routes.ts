import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Tenant } from '../tenants/model.js';
import { AccountError } from './account-service.js';
import { formOf, type PeopleContext, pageTenant, paths } from './context.js';
import { csrfToken, csrfValid, errorBox, html, sendErrorPage, sendPage } from './page.js';
import { passwordFields } from './views.js';

type Params = { Params: { tenant: string }; Querystring: Record<string, unknown> };

const INVALID = 'This invitation link is not valid: it was already used, replaced by a newer one, or it expired. Ask your administrator for a new one.';

/** `/{tenant}/invitation?token=…`: an invited person chooses their password. */
export function registerInvitationRoutes(app: FastifyInstance, ctx: PeopleContext): void {
  const page = async (tenant: Tenant, token: string, request: FastifyRequest, reply: FastifyReply, error?: string) => {
    const user = await ctx.accounts.invitedUser(tenant, token);
    if (!user) return sendErrorPage(reply, 410, 'Invitation not valid', INVALID);
    const csrf = csrfToken(ctx.deps, request, reply, tenant.id, token);
    return sendPage(reply, {
      status: error ? 400 : 200,
      title: `Welcome to ${tenant.displayName ?? tenant.name}`,
      body: html`<p>Choose a password for <strong>${user.username ?? user.email}</strong>.</p>${errorBox(error)}
<form method="post" action="/${tenant.name}/invitation">
<input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="token" value="${token}">
<input type="text" name="username" value="${user.username ?? user.email ?? ''}" autocomplete="username" hidden readonly>
${passwordFields(false)}
<button type="submit">Save password</button>
</form>`,
    });
  };

  app.get<Params>('/:tenant/invitation', async (request, reply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const token = typeof request.query.token === 'string' ? request.query.token.slice(0, 100) : '';
    return page(tenant, token, request, reply);
  });

  app.post<Params>('/:tenant/invitation', async (request, reply) => {
    const tenant = await pageTenant(ctx, request.params.tenant, reply);
    if (!tenant) return reply;
    const form = formOf(request.body);
    const token = (form.token ?? '').slice(0, 100);
    if (!csrfValid(ctx.deps, request, tenant.id, form.csrf, token)) return sendErrorPage(reply, 403, 'Request refused', 'The form expired. Open the invitation link again.');
    if ((form.new_password ?? '') !== (form.confirm_password ?? '')) return page(tenant, token, request, reply, 'The two passwords are not the same.');
    try {
      if (!(await ctx.accounts.acceptInvitation(request, tenant, token, form.new_password ?? ''))) return sendErrorPage(reply, 410, 'Invitation not valid', INVALID);
    } catch (error) {
      if (error instanceof AccountError) return page(tenant, token, request, reply, error.message);
      throw error;
    }
    return reply.redirect(`${paths.login(tenant)}?notice=invited`, 303);
  });
}
