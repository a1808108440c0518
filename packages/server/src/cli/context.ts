import type { Command } from 'commander';
import { AdminClient, segment, type Query, type RequestOptions } from './client.js';
import { credentialsPath, loadCredentials, type AdminCredentials } from './credentials-file.js';
import type { Json, Page } from './json.js';
import { Output, type Io } from './output.js';

/** Options every command accepts (declared once, on the program). */
export interface GlobalOptions {
  json?: boolean;
  credentials?: string;
  url?: string;
}

/** What a command's action works with: its output, and the admin client on first use. */
export class Context {
  readonly out: Output;
  private client: Promise<AdminClient> | undefined;

  constructor(
    readonly io: Io,
    readonly globals: GlobalOptions,
  ) {
    this.out = new Output(io, globals.json === true);
  }

  get credentialsPath(): string {
    return credentialsPath(this.globals.credentials, this.io.env, this.io.cwd);
  }

  credentials(): Promise<AdminCredentials> {
    const options = { warn: (message: string) => this.out.warn(message) };
    return loadCredentials(this.credentialsPath, this.globals.url ? { ...options, adminApiOverride: this.globals.url } : options);
  }

  admin(): Promise<AdminClient> {
    this.client ??= this.credentials().then((credentials) => new AdminClient(credentials));
    return this.client;
  }

  /** `--tenant` when given, else the tenant named in the credentials file. */
  async tenant(flag: string | undefined): Promise<string> {
    return flag ?? (await this.admin()).defaultTenant;
  }

  /** `/tenants/<tenant>` for `--tenant` or the default tenant. */
  async tenantPath(flag: string | undefined): Promise<string> {
    return `/tenants/${segment(await this.tenant(flag))}`;
  }

  async call(method: string, path: string, options?: RequestOptions): Promise<Json | undefined> {
    return (await this.admin()).request(method, path, options);
  }

  async list(path: string, query: Query, all?: boolean): Promise<Page> {
    return (await this.admin()).list(path, query, all);
  }
}

/** Builds a command's Context from its (and the program's) parsed options. */
export type ContextOf = (command: Command) => Context;

export const contextFactory =
  (io: Io): ContextOf =>
  (command) =>
    new Context(io, command.optsWithGlobals<GlobalOptions>());
