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
  // RFC 6749 §4.1.2.1 and OIDC Core §3.1.2.6: authorization endpoint errors, sent to the redirect URI.
  | 'unsupported_response_type'
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'request_not_supported'
  | 'request_uri_not_supported'
  // RFC 6750 §3.1: protected resource (userinfo) errors.
  | 'invalid_token'
  | 'insufficient_scope'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  // RFC 7591 §3.2.2: dynamic client registration errors.
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata';

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
  unsupported_response_type: 400,
  access_denied: 403,
  login_required: 401,
  consent_required: 403,
  interaction_required: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
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
  unsupportedResponseType: (description: string) => new OAuthError('unsupported_response_type', description),
  accessDenied: (description: string, detail?: string) => new OAuthError('access_denied', description, detail),
  loginRequired: () => new OAuthError('login_required', 'the user is not signed in and prompt=none forbids asking'),
  consentRequired: () => new OAuthError('consent_required', 'the user has not consented and prompt=none forbids asking'),
  invalidToken: (description: string, detail?: string) => new OAuthError('invalid_token', description, detail),
  insufficientScope: (description: string) => new OAuthError('insufficient_scope', description),
  /** RFC 9449 §5: the DPoP proof is missing a required part, malformed or does not fit the request. */
  invalidDpopProof: (description: string, detail?: string) => new OAuthError('invalid_dpop_proof', description, detail),
  /** RFC 9449 §8: the proof must carry the nonce sent in the `DPoP-Nonce` response header. */
  useDpopNonce: (description: string) => new OAuthError('use_dpop_nonce', description),
};

/**
 * An error shown on an HTML page, never redirected: used on the authorization endpoint until the
 * client and its redirect URI are known to be valid (RFC 9700 §4.11.2: no open redirects).
 */
export class PageError extends Error {
  override name = 'PageError';
  constructor(
    readonly status: number,
    readonly title: string,
    /** Shown to the person: plain language, no internal detail. */
    message: string,
  ) {
    super(message);
  }
}

export const pageErrors = {
  badClient: (message: string) => new PageError(400, 'This application cannot sign you in', message),
  requestGone: () => new PageError(400, 'This sign-in request has ended', 'It expired or was already used. Go back to the application and start again.'),
  formExpired: () => new PageError(403, 'This form has expired', 'Go back to the application and start again.'),
  notFound: () => new PageError(404, 'Not found', 'There is no such page.'),
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
