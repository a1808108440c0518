/**
 * The one error catalogue.
 *
 * OAuthError: the RFC error code, a description safe to send, an internal-only detail for logs and
 * audit, and the HTTP status. ApiError: admin API errors with a stable `code` and HTTP status.
 * Nothing else is ever shown to a client: unknown errors become a generic 500 without details.
 */

/** OAuth error codes from RFC 6749 §5.2, RFC 8707 §2, RFC 6750 §3.1 and RFC 9449 §12.2. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'temporarily_unavailable'
  | 'server_error'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce';

const OAUTH_STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  temporarily_unavailable: 503,
  server_error: 500,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
};

export class OAuthError extends Error {
  override name = 'OAuthError';
  readonly status: number;
  constructor(
    readonly error: OAuthErrorCode,
    /** Sent to the client: never names secrets, keys or internal state. */
    readonly description: string,
    /** Internal only: logs and audit. */
    readonly detail?: string,
    options?: { cause?: unknown; status?: number; retryAfter?: number },
  ) {
    super(`${error}: ${description}${detail ? ` (${detail})` : ''}`, options?.cause ? { cause: options.cause } : undefined);
    this.status = options?.status ?? OAUTH_STATUS[error];
    this.retryAfter = options?.retryAfter;
  }

  /** Seconds for a `Retry-After` header (throttling). */
  readonly retryAfter: number | undefined;

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export const oauthErrors = {
  invalidRequest: (description: string, detail?: string) => new OAuthError('invalid_request', description, detail),
  invalidClient: (detail: string) => new OAuthError('invalid_client', 'client authentication failed', detail),
  invalidGrant: (description: string, detail?: string) => new OAuthError('invalid_grant', description, detail),
  unauthorizedClient: (description: string, detail?: string) => new OAuthError('unauthorized_client', description, detail),
  unsupportedGrantType: (grantType: string) =>
    new OAuthError('unsupported_grant_type', `grant_type "${grantType.slice(0, 100)}" is not supported`),
  invalidScope: (description: string, detail?: string) => new OAuthError('invalid_scope', description, detail),
  invalidTarget: (description: string, detail?: string) => new OAuthError('invalid_target', description, detail),
  temporarilyUnavailable: (detail: string) =>
    new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable, retry later', detail),
  notFound: (description: string) => new OAuthError('invalid_request', description, undefined, { status: 404 }),
  /** RFC 9449 §5: the DPoP proof is missing a required part, malformed or does not fit the request. */
  invalidDpopProof: (description: string, detail?: string) => new OAuthError('invalid_dpop_proof', description, detail),
  /** RFC 9449 §8: the proof must carry the nonce sent in the `DPoP-Nonce` response header. */
  useDpopNonce: (description: string) => new OAuthError('use_dpop_nonce', description),
};

/** Stable admin API error codes and their HTTP status. */
export const API_ERROR_STATUS = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  /** A grant or agent asks for more than the agent's blueprint allows. */
  exceeds_blueprint: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal_error: 500,
  unavailable: 503,
} as const;
export type ApiErrorCode = keyof typeof API_ERROR_STATUS;

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.status = API_ERROR_STATUS[code];
  }

  toJSON(): { code: ApiErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const apiErrors = {
  invalid: (message: string, details?: unknown) => new ApiError('invalid_request', message, details),
  unauthorized: (message = 'a valid admin access token is required') => new ApiError('unauthorized', message),
  forbidden: (message = 'the token does not allow this operation') => new ApiError('forbidden', message),
  notFound: (what: string, id: string) => new ApiError('not_found', `${what} "${id.slice(0, 200)}" was not found`),
  conflict: (message: string) => new ApiError('conflict', message),
  exceedsBlueprint: (message: string, details?: unknown) => new ApiError('exceeds_blueprint', message, details),
};
