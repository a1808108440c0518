import type { AdminCredentials } from './credentials-file.js';
import { CliError } from './errors.js';
import { send } from './http.js';
import { asPage, isObject, type Json, type JsonObject, type Page } from './json.js';
import { basicAuthorization, requestToken } from './token-request.js';

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: JsonObject;
}

/** Admin API error bodies are `{code, message, details?}`. */
function apiError(status: number, body: Json | undefined): CliError {
  if (isObject(body) && typeof body.code === 'string' && typeof body.message === 'string') return new CliError(body.code, body.message);
  return new CliError(`http_${status}`, `the admin API answered HTTP ${status}`);
}

/** Path segment encoding for ids, names and resource identifiers (which hold ':' and '/'). */
export const segment = (value: string): string => encodeURIComponent(value);

/**
 * Talks to the admin API as the install's admin client: one client_credentials token per run,
 * fetched on first use, sent as a Bearer token on every call.
 */
export class AdminClient {
  private token: Promise<string> | undefined;
  readonly baseUrl: string;

  constructor(private readonly credentials: AdminCredentials) {
    this.baseUrl = credentials.admin_api.replace(/\/+$/, '');
    if (!URL.canParse(this.baseUrl)) throw new CliError('invalid_url', `"${credentials.admin_api}" is not a valid admin API URL`);
  }

  get defaultTenant(): string {
    return this.credentials.tenant;
  }

  private accessToken(): Promise<string> {
    this.token ??= (async () => {
      const { client_id, client_secret, scope, token_endpoint } = this.credentials;
      const form = new URLSearchParams({ grant_type: 'client_credentials', scope });
      const response = await requestToken(token_endpoint, form, basicAuthorization(client_id, client_secret));
      return response.access_token as string;
    })();
    return this.token;
  }

  /** One admin API call; resolves to the JSON body, or undefined for 204. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Json | undefined> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${await this.accessToken()}`, accept: 'application/json' };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await send(url.href, body === undefined ? { method, headers } : { method, headers, body });
    if (response.status >= 200 && response.status < 300) return response.body;
    throw apiError(response.status, response.body);
  }

  /** GETs a list; with `all`, follows `nextCursor` until the last page and returns every item. */
  async list(path: string, query: Query, all = false): Promise<Page> {
    const first = asPage(await this.request('GET', path, { query }));
    if (!all) return first;
    const items = [...first.items];
    let cursor = first.nextCursor;
    while (cursor !== null) {
      const page = asPage(await this.request('GET', path, { query: { ...query, cursor } }));
      items.push(...page.items);
      cursor = page.nextCursor;
    }
    return { items, nextCursor: null };
  }
}
