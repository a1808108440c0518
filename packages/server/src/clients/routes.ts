import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { callerOf } from '../admin/auth.js';
import { errorResponses, NoContent } from '../admin/schemas.js';
import { isoTime } from '../db/json.js';
import { PrincipalParams } from '../principals/routes.js';
import type { Services } from '../services.js';
import { OAuthClientView, PutOAuthClientBody, type OAuthClient } from './model.js';

const viewOf = (c: OAuthClient): OAuthClientView => ({
  principalId: c.principalId,
  clientType: c.clientType,
  redirectUris: c.redirectUris,
  postLogoutRedirectUris: c.postLogoutRedirectUris,
  requiredScopes: c.requiredScopes,
  selfRegistered: c.selfRegistered,
  createdAt: isoTime(c.createdAt) as string,
  updatedAt: isoTime(c.updatedAt) as string,
});

export function registerOAuthClientRoutes(app: FastifyInstance, { tenants, oauthClients }: Services): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['principals'];
  const path = '/tenants/:tenant/principals/:id/oauth-client';

  r.put(path, { schema: { tags, summary: 'Let users sign in to a service or agent: client type, exact redirect URIs, post-logout redirect URIs, scopes users cannot decline', params: PrincipalParams, body: PutOAuthClientBody, response: { 200: OAuthClientView, ...errorResponses } } }, async (req) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    return viewOf(await oauthClients.put(caller, tenant, req.params.id, req.body));
  });

  r.get(path, { schema: { tags, summary: 'Get the sign-in settings of a service or agent', params: PrincipalParams, response: { 200: OAuthClientView, ...errorResponses } } }, async (req) => {
    const tenant = await tenants.forCaller(callerOf(req), req.params.tenant, 'read');
    return viewOf(await oauthClients.get(tenant, req.params.id));
  });

  r.delete(path, { schema: { tags, summary: 'Stop users signing in to a service or agent', params: PrincipalParams, response: { 204: NoContent, ...errorResponses } } }, async (req, reply) => {
    const caller = callerOf(req);
    const tenant = await tenants.forCaller(caller, req.params.tenant, 'write');
    await oauthClients.remove(caller, tenant, req.params.id);
    return reply.status(204).send(null);
  });
}
