import type { TestServer } from '../helpers/server.js';

/** A tiny browser without JavaScript: a cookie jar, forms posted as application/x-www-form-urlencoded, redirects not followed. */
export class FormClient {
  readonly cookies = new Map<string, string>();

  constructor(
    readonly base: string,
    readonly headers: Record<string, string> = {},
  ) {}

  private store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(path: string): Promise<Page> {
    const response = await fetch(new URL(path, this.base), { redirect: 'manual', headers: { ...this.headers, cookie: this.cookieHeader() } });
    this.store(response);
    return new Page(response.status, response.headers, await response.text());
  }

  async post(path: string, form: Record<string, string>): Promise<Page> {
    const response = await fetch(new URL(path, this.base), {
      method: 'POST',
      redirect: 'manual',
      headers: { ...this.headers, cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    this.store(response);
    return new Page(response.status, response.headers, await response.text());
  }

  /** GET `path`, then post the form with `action` on it, its hidden fields plus `fields`. */
  async submit(path: string, action: string, fields: Record<string, string>): Promise<Page> {
    const page = await this.get(path);
    return this.post(action, { ...page.hiddenFields(action), ...fields });
  }
}

export class Page {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
  ) {}

  get location(): string | null {
    return this.headers.get('location');
  }

  /** Hidden inputs of the first form whose action is `action`. */
  hiddenFields(action: string): Record<string, string> {
    const start = this.body.indexOf(`action="${action}"`);
    if (start < 0) throw new Error(`no form with action ${action} in:\n${this.body.slice(0, 2000)}`);
    const form = this.body.slice(start, this.body.indexOf('</form>', start));
    const fields: Record<string, string> = {};
    for (const m of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[m[1]!] = unescape(m[2]!);
    return fields;
  }

  /** The text of the element with this id. */
  textOf(id: string): string | undefined {
    const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</`).exec(this.body);
    return m ? unescape(m[1]!) : undefined;
  }
}

function unescape(text: string): string {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&#96;/g, '`').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export interface TestUser {
  id: string;
  username: string;
  email: string;
  password: string;
}

/** Creates a user with a username, an email and a password (set as temporary, then made permanent through the store). */
export async function createUser(server: TestServer, tenant: string, username: string, options: { temporary?: boolean; password?: string } = {}): Promise<TestUser> {
  const email = `${username}@example.test`;
  const created = await server.api('POST', `/tenants/${tenant}/principals`, { kind: 'user', displayName: `${username[0]!.toUpperCase()}${username.slice(1)} Example`, username, email });
  if (created.status !== 201) throw new Error(`user create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const password = options.password ?? `correct horse ${username} battery`;
  const set = await server.api('POST', `/tenants/${tenant}/principals/${created.body.id}/temporary-password`, { password });
  if (set.status !== 201) throw new Error(`password set failed: ${set.status} ${JSON.stringify(set.body)}`);
  if (!options.temporary) {
    const t = await server.signet.services.tenants.resolve(tenant);
    await server.signet.deps.db.updateTable('people_passwords').set({ must_change: 0 }).where('tenant_id', '=', t.id).where('user_id', '=', created.body.id).execute();
  }
  return { id: created.body.id, username, email, password };
}

/** Signs in with a password through the form; returns the response to the password POST. */
export async function passwordSignIn(client: FormClient, tenant: string, username: string, password: string, query = ''): Promise<Page> {
  return client.submit(`/${tenant}/login${query}`, `/${tenant}/login`, { username, password });
}

/** Audit events of `type` in `tenant`, oldest first, with their data parsed. */
export async function auditOf(server: TestServer, tenant: string, type: string): Promise<{ outcome: string; actorId: string | null; targetId: string | null; sourceIp: string | null; data: Record<string, unknown> }[]> {
  const t = await server.signet.services.tenants.resolve(tenant);
  const rows = await server.signet.deps.db.selectFrom('audit_events').selectAll().where('tenant_id', '=', t.id).where('type', '=', type).orderBy('id').execute();
  return rows.map((r) => ({ outcome: r.outcome, actorId: r.actor_id, targetId: r.target_id, sourceIp: r.source_ip, data: JSON.parse(r.data) as Record<string, unknown> }));
}
