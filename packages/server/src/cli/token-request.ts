import { CliError } from './errors.js';
import { send } from './http.js';
import { asObject, isObject, type JsonObject } from './json.js';

/** RFC 6749 §2.3.1: client_secret_basic form-encodes id and secret before base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/**
 * POSTs a token request (RFC 6749 §4.4) and returns the token response. OAuth errors
 * (`{error, error_description}`, RFC 6749 §5.2) become CliErrors with the RFC code.
 */
export async function requestToken(endpoint: string, form: URLSearchParams, authorization?: string): Promise<JsonObject> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  if (authorization) headers.authorization = authorization;
  const { status, body } = await send(endpoint, { method: 'POST', headers, body: form.toString() });
  if (status === 200) {
    const token = asObject(body, 'the token response');
    if (typeof token.access_token !== 'string') throw new CliError('invalid_response', 'the token response has no access_token');
    return token;
  }
  if (isObject(body) && typeof body.error === 'string') {
    const description = typeof body.error_description === 'string' ? body.error_description : `the token endpoint answered HTTP ${status}`;
    throw new CliError(body.error, description);
  }
  throw new CliError(`http_${status}`, `the token endpoint ${endpoint} answered HTTP ${status}`);
}
