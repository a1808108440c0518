import { oauthErrors } from '../../errors.js';
import { allowedScopes, blueprintFor, maxDelegationDepth, mayActForUsers, tokenLifetimeCap } from '../../policy/blueprint-policy.js';
import { actChain } from '../../policy/standing.js';
import { rulesFor } from '../../principals/kinds.js';
import type { AccessTokenClaims, ActClaim } from '../access-token.js';
import { requireSameKey, type DpopProof } from '../dpop.js';
import type { GrantContext, GrantResult } from './grant.js';
import { readSubjectToken, TOKEN_TYPE } from './subject-token.js';
import { resolveTarget } from './target.js';

export const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/**
 * Token exchange (RFC 8693): an agent (or a service) trades a user's token — or a delegated token
 * an upstream actor passed on — for a narrower token for another resource. The result is about
 * the user (`sub`) and names every actor in `act`, the current actor outermost (§4.1).
 *
 * Checks, in order: the actor may act for users → subject token (signature, tenant, expiry, a
 * user's; not revoked, everyone it names in good standing) → `may_act` (§4.4) → DPoP binding →
 * depth cap → target →
 * scopes = asked ∩ subject token ∩ consent ∩ blueprint ∩ offered by the resource. Application
 * roles never travel in a delegated token.
 */
export async function tokenExchangeGrant(ctx: GrantContext): Promise<GrantResult> {
  const { deps, tenant, client, params } = ctx;
  const actor = client.principal;
  if (params.requested_token_type !== undefined && params.requested_token_type !== TOKEN_TYPE.accessToken) {
    throw oauthErrors.invalidRequest(`requested_token_type must be ${TOKEN_TYPE.accessToken}`);
  }
  if (!rulesFor(actor.kind).actsForUsers) throw oauthErrors.unauthorizedClient(`principals of kind ${actor.kind} cannot act for users`);
  const blueprint = await blueprintFor(deps, tenant.id, actor);
  if (!mayActForUsers(blueprint)) throw oauthErrors.unauthorizedClient('this agent\'s blueprint does not allow acting for users');

  const { claims: subject, stopped } = await readSubjectToken(deps, ctx.accessTokens, tenant, params.subject_token, params.subject_token_type);
  const previous = actChain(subject);
  ctx.noteDelegation(subject.sub, [actor.id, ...previous]);
  // RFC 6749 §5.2: a revoked grant, or one whose user, client or an actor was stopped, is invalid_grant.
  if (stopped) throw oauthErrors.invalidGrant('subject_token is no longer active', stopped);
  checkMayAct(subject, actor.id);
  checkBinding(subject, actor.id, ctx.dpop);

  const depth = previous.length + 1;
  const cap = maxDelegationDepth(blueprint) ?? deps.config.delegationMaxDepth;
  if (depth > cap) throw oauthErrors.invalidRequest(`delegation depth ${depth} exceeds this actor's cap of ${cap}`);

  const target = await resolveTarget(deps, tenant, targetParams(params));
  const offered = target.resource.scopes.map((s) => s.name);
  const carried = subject.scope ? subject.scope.split(' ') : [];
  const consented = await ctx.delegation.consentedScopes({ tenant, userId: subject.sub, clientId: actor.id, resource: target.resource, subjectToken: subject });
  const allowedByBlueprint = allowedScopes(blueprint, target.resource.id);
  const limits: [string, readonly string[] | null][] = [
    ['offered by the resource', offered],
    ['in the subject token', carried],
    ['consented to by the user for this client', consented],
    ['allowed by the blueprint', allowedByBlueprint],
  ];
  const allowed = limits.reduce<string[]>((acc, [, limit]) => (limit === null ? acc : acc.filter((s) => limit.includes(s))), offered);
  if (target.requested !== null) {
    for (const scope of target.requested) {
      const limit = limits.find(([, l]) => l !== null && !l.includes(scope));
      if (limit) throw oauthErrors.invalidScope(`scope "${scope.slice(0, 100)}" is not ${limit[0]}`);
    }
  } else if (allowed.length === 0) {
    throw oauthErrors.invalidScope(`no scope on "${target.resource.identifier}" can be delegated to this client`);
  }
  const granted = target.requested ?? allowed;

  const act: ActClaim = { sub: actor.id, kind: actor.kind, client_id: actor.id, ...(subject.act ? { act: subject.act } : {}) };
  const claims: GrantResult['claims'] = { sub: subject.sub, aud: target.resource.identifier, kind: 'user', scope: granted.join(' '), act };
  return {
    claims,
    scope: granted.join(' '),
    ttlCapSeconds: tokenLifetimeCap(blueprint),
    // A hop can only narrow: the new token never outlives the one it came from.
    notAfter: subject.exp,
    response: { issued_token_type: TOKEN_TYPE.accessToken },
    audit: {
      type: 'token.exchanged',
      delegation: [actor.id, ...previous],
      data: { subjectJti: subject.jti, subjectTokenType: params.subject_token_type ?? null, subjectClientId: subject.client_id, depth },
    },
  };
}

/** RFC 8693 §4.4: when the subject token names who may act for its subject, the actor must be that party. */
function checkMayAct(subject: AccessTokenClaims, actorId: string): void {
  const mayAct = subject.may_act;
  if (mayAct === undefined) return;
  if (typeof mayAct !== 'object' || mayAct === null || mayAct.sub !== actorId) {
    // RFC 6749 §5.2: a grant issued to another party is invalid_grant.
    throw oauthErrors.invalidGrant('the subject token\'s may_act does not name this actor');
  }
}

/**
 * RFC 9449: a chain that was sender-constrained stays sender-constrained — a DPoP-bound subject token
 * is exchanged only with a proof, and the new token is bound to the proof's key. When the actor
 * exchanges a token bound to itself, the proof must be made with that same key; a downstream actor
 * (who received the token and could never prove the upstream key) proves its own.
 */
function checkBinding(subject: AccessTokenClaims, actorId: string, dpop: DpopProof | undefined): void {
  if (!subject.cnf) return;
  if (!dpop) throw oauthErrors.invalidRequest('a DPoP proof is required: the subject token is DPoP-bound');
  if (subject.client_id === actorId) requireSameKey(dpop, subject.cnf.jkt);
}

/**
 * RFC 8693 §2.1: `resource` (RFC 8707) and `audience` both name the target; a Signet token has one
 * audience, so when both are sent they must name the same resource.
 */
function targetParams(params: GrantContext['params']): GrantContext['params'] {
  const { resource, audience } = params;
  if (resource !== undefined && audience !== undefined && resource !== audience) throw oauthErrors.invalidTarget('resource and audience name different targets');
  return { ...params, resource: resource ?? audience };
}
