import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent } from '../admin/schemas.js';
import { isoTime } from '../db/json.js';
import { apiErrors } from '../errors.js';
import { PrincipalParams } from '../principals/routes.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import { AccountError, INVITATION_DEFAULT_HOURS } from './account-service.js';
import { PASSWORD_MAX_LENGTH } from './passwords.js';
import type { SignInUser } from './user-store.js';

export const TemporaryPasswordBody = Type.Object(
  { password: Type.Optional(Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH, description: 'Omit to have Signet generate one (returned once)' })) },
  { additionalProperties: false },
);
export const TemporaryPasswordView = Type.Object({
  temporaryPassword: Type.String({ description: 'Shown once; the user must change it at the next sign-in' }),
  loginUrl: Type.String(),
});
export const InvitationBody = Type.Object(
  { expiresInHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 24, description: `Default ${INVITATION_DEFAULT_HOURS}` })) },
  { additionalProperties: false },
);
export const InvitationView = Type.Object({
  url: Type.String({ description: 'Single-use link where the user chooses a password; shown once' }),
  expiresAt: Type.String(),
});
export const SignInMethodsView = Type.Object({
  hasPassword: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  factors: Type.Array(Type.Object({ id: Type.String(), type: Type.String(), name: Type.String(), createdAt: Type.String(), lastUsedAt: Type.Union([Type.String(), Type.Null()]) })),
});

const FactorParams = Type.Object({ ...PrincipalParams.properties, factorId: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });

/** Admin API for people's sign-in: temporary passwords, invitations, and a view of a user's sign-in methods. */
export function registerPeopleAdminRoutes(app: FastifyInstance, services: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['people'];
  const userOf = async (tenant: Tenant, id: string): Promise<SignInUser> => {
    const principal = await services.principals.getLive(tenant, id);
    if (principal.kind !== 'user') throw apiErrors.invalid(`principal "${id}" is a ${principal.kind}; only users sign in with a password`);
    if (principal.status !== 'active') throw apiErrors.conflict(`user "${id}" is ${principal.status}`);
    if (!principal.username && !principal.email) throw apiErrors.invalid(`user "${id}" has neither a username nor an email to sign in with; set one first`);
    return { id: principal.id, tenantId: tenant.id, displayName: principal.displayName, username: principal.username, email: principal.email, status: principal.status };
  };

  r.post('/tenants/:tenant/principals/:id/temporary-password', { schema: { tags, summary: 'Set a temporary password the user must change at the next sign-in (ends their sessions)', params: PrincipalParams, body: TemporaryPasswordBody, response: { 201: TemporaryPasswordView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await services.tenants.forCaller(caller, req.params.tenant, 'write');
    const user = await userOf(tenant, req.params.id);
    try {
      const temporaryPassword = await services.people.accounts.setTemporaryPassword(tenant, user, req.body.password, caller.principalId, req);
      return reply.status(201).header('cache-control', 'no-store').send({ temporaryPassword, loginUrl: `${services.tenants.issuer(tenant)}/login` });
    } catch (error) {
      if (error instanceof AccountError) throw apiErrors.invalid(error.message);
      throw error;
    }
  });

  r.post('/tenants/:tenant/principals/:id/invitations', { schema: { tags, summary: 'Create a single-use invitation link where the user chooses a password (replaces earlier ones)', params: PrincipalParams, body: InvitationBody, response: { 201: InvitationView, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await services.tenants.forCaller(caller, req.params.tenant, 'write');
    const user = await userOf(tenant, req.params.id);
    const invitation = await services.people.accounts.invite(tenant, services.tenants.issuer(tenant), user, req.body.expiresInHours ?? INVITATION_DEFAULT_HOURS, caller.principalId, req);
    return reply.status(201).header('cache-control', 'no-store').send({ url: invitation.url, expiresAt: isoTime(invitation.expiresAt) as string });
  });

  r.delete('/tenants/:tenant/principals/:id/factors/:factorId', { schema: { tags, summary: 'Remove a second factor of a user who lost it (audited as mfa.removed by the admin)', params: FactorParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await services.tenants.forCaller(caller, req.params.tenant, 'write');
    const principal = await services.principals.get(tenant, req.params.id);
    if (!(await services.people.accounts.removeFactor(req, tenant, principal.id, req.params.factorId, caller.principalId))) throw apiErrors.notFound('factor', req.params.factorId);
    return reply.status(204).send(null);
  });

  r.get('/tenants/:tenant/principals/:id/sign-in-methods', { schema: { tags, summary: "A user's sign-in methods (never secrets)", params: PrincipalParams, response: { 200: SignInMethodsView, ...errorResponses } } }, async (req) => {
    const tenant = await services.tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    const principal = await services.principals.get(tenant, req.params.id);
    if (principal.kind !== 'user') throw apiErrors.invalid(`principal "${req.params.id}" is a ${principal.kind}`);
    const password = await services.people.accounts.passwordState(tenant, principal.id);
    const factors = (await services.people.accounts.factors(tenant, principal.id)).filter((f) => f.confirmed);
    return {
      hasPassword: password !== undefined,
      mustChangePassword: password?.mustChange ?? false,
      factors: factors.map((f) => ({ id: f.id, type: f.type, name: f.name, createdAt: isoTime(f.createdAt) as string, lastUsedAt: isoTime(f.lastUsedAt) })),
    };
  });
}
