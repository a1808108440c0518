import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { AdminCredentialsFile } from '../bootstrap.js';
import { CliError } from './errors.js';
import { isObject, type Json } from './json.js';

/** The admin client the server writes to `<data dir>/admin-credentials.json` on first start. */
export type AdminCredentials = Omit<AdminCredentialsFile, 'expires_at'>;

export type Env = Record<string, string | undefined>;

export const CREDENTIALS_FILE = 'admin-credentials.json';
const DEFAULT_SCOPE = 'urn:signet:admin/.default';

/** `--credentials`, else `SIGNET_CREDENTIALS`, else `$SIGNET_DATA_DIR/admin-credentials.json`, else `./.signet/admin-credentials.json`. */
export function credentialsPath(flag: string | undefined, env: Env, cwd: string): string {
  if (flag) return resolve(cwd, flag);
  if (env.SIGNET_CREDENTIALS) return resolve(cwd, env.SIGNET_CREDENTIALS);
  if (env.SIGNET_DATA_DIR) return resolve(cwd, env.SIGNET_DATA_DIR, CREDENTIALS_FILE);
  return resolve(cwd, '.signet', CREDENTIALS_FILE);
}

function field(body: Record<string, Json>, name: string, path: string, fallback?: string): string {
  const value = body[name];
  if (typeof value === 'string' && value !== '') return value;
  if (value === undefined && fallback !== undefined) return fallback;
  throw new CliError('credentials_invalid', `${path}: "${name}" must be a non-empty string`);
}

/**
 * Reads and checks the credentials file. `adminApiOverride` (from `--url`) makes `admin_api` optional.
 * `warn` is told when the file is readable by other users, since it holds a client secret.
 */
export async function loadCredentials(path: string, options: { adminApiOverride?: string; warn?: (message: string) => void } = {}): Promise<AdminCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new CliError('credentials_not_found', `no admin credentials at ${path}; start the server once (signet start), or pass --credentials <file> or set SIGNET_CREDENTIALS`);
    }
    throw new CliError('credentials_unreadable', `cannot read ${path} (${code ?? 'unknown error'})`);
  }
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    throw new CliError('credentials_invalid', `${path} is not valid JSON`);
  }
  if (!isObject(body)) throw new CliError('credentials_invalid', `${path} must hold a JSON object`);
  if (options.warn && process.platform !== 'win32') {
    const { mode } = await stat(path);
    if ((mode & 0o077) !== 0) options.warn(`${path} is readable by other users; restrict it with: chmod 600 ${path}`);
  }
  const tenant = field(body, 'tenant', path, 'default');
  return {
    issuer: field(body, 'issuer', path, ''),
    token_endpoint: field(body, 'token_endpoint', path),
    client_id: field(body, 'client_id', path),
    client_secret: field(body, 'client_secret', path),
    scope: field(body, 'scope', path, DEFAULT_SCOPE),
    admin_api: options.adminApiOverride ?? field(body, 'admin_api', path),
    tenant,
  };
}
