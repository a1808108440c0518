import type { FastifyReply } from 'fastify';
import type { Deps } from '../context.js';
import type { Services } from '../services.js';
import type { Tenant } from '../tenants/model.js';
import type { AccountService } from './account-service.js';
import { sendErrorPage } from './page.js';
import type { SignInChecks } from './signin-service.js';

/** What the people pages are built from. */
export interface PeopleContext {
  deps: Deps;
  services: Services;
  checks: SignInChecks;
  accounts: AccountService;
}

/** The active tenant named in the path, or an HTML 404 page (and undefined). */
export async function pageTenant(ctx: PeopleContext, name: string, reply: FastifyReply): Promise<Tenant | undefined> {
  const tenant = await ctx.services.tenants.activeByName(name);
  if (!tenant) sendErrorPage(reply, 404, 'Not found', 'There is no such sign-in page.');
  return tenant;
}

/** A form body as a record of strings (a repeated field keeps its first value). */
export function formOf(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!body || typeof body !== 'object') return out;
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[key] = first;
  }
  return out;
}

export const paths = {
  login: (t: Pick<Tenant, 'name'>) => `/${t.name}/login`,
  account: (t: Pick<Tenant, 'name'>) => `/${t.name}/account`,
};
