import type { FastifyRequest } from 'fastify';

/** Authorization request parameters, from the query (GET) or the form body (POST, OIDC Core §3.1.2.1). */
export interface AuthorizationParams {
  values: Readonly<Record<string, string | undefined>>;
  /** Parameters that appeared more than once (RFC 6749 §3.1: they MUST NOT). */
  repeated: ReadonlySet<string>;
}

export function authorizationParams(request: FastifyRequest): AuthorizationParams {
  const source = (request.method === 'POST' ? request.body : request.query) ?? {};
  const values: Record<string, string> = Object.create(null) as Record<string, string>;
  const repeated = new Set<string>();
  for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
    if (typeof value !== 'string') {
      repeated.add(name);
      continue;
    }
    // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    if (value !== '') values[name] = value;
  }
  return { values, repeated };
}
