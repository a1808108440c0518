import type { FastifyRequest } from 'fastify';
import { oauthErrors } from '../errors.js';

/** Token-endpoint parameters: each present at most once (RFC 6749 §3.2: parameters MUST NOT be repeated). */
export type Params = Readonly<Record<string, string | undefined>>;

const FORM = 'application/x-www-form-urlencoded';

/** Reads the form body; refuses other media types and repeated parameters with `invalid_request`. */
export function formParams(request: FastifyRequest): Params {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== FORM) throw oauthErrors.invalidRequest(`the request body must be ${FORM}`);
  const body = (request.body ?? {}) as Record<string, unknown>;
  const params: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') throw oauthErrors.invalidRequest(`parameter "${name.slice(0, 50)}" is repeated`);
    // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
    if (value !== '') params[name] = value;
  }
  return params;
}
