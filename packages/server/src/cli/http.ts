import { CliError, EXIT_CONNECTION } from './errors.js';
import type { Json } from './json.js';

const TIMEOUT_MS = 30_000;

export interface HttpResponse {
  status: number;
  /** The parsed JSON body; undefined when the body is empty (204) or not JSON. */
  body: Json | undefined;
}

/** Why a connection failed, from undici's `fetch failed` cause (ECONNREFUSED, ENOTFOUND, …). */
function reason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no response within ${TIMEOUT_MS / 1000} s`;
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const message = (cause as { message?: unknown }).message;
    if (typeof message === 'string' && message) return message;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Sends one HTTP request with the global fetch. Connection failures exit with code 2. */
export async function send(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<HttpResponse> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError('invalid_url', `"${url}" is not a valid URL`);
  }
  let response: Response;
  let text: string;
  try {
    response = await fetch(parsed, { ...init, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
    text = await response.text();
  } catch (error) {
    throw new CliError('connection_failed', `cannot reach ${parsed.origin} (${reason(error)})`, EXIT_CONNECTION);
  }
  let body: Json | undefined;
  if (text !== '') {
    try {
      body = JSON.parse(text) as Json;
    } catch {
      body = undefined;
    }
  }
  return { status: response.status, body };
}
