import Table from 'cli-table3';
import type { Env } from './credentials-file.js';
import { isObject, type Json, type JsonObject, type Page } from './json.js';

/** Where a run reads its environment and writes its output; injectable so tests run in-process. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Env;
  cwd: string;
}

export const processIo = (): Io => ({
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
});

/** A table column: the header and the field of each item it shows. */
export interface Column {
  header: string;
  field: string;
}

export const column = (field: string, header: string = field): Column => ({ field, header });

/** One cell: '-' for absent values, names for permission lists, compact JSON for other objects. */
export function cell(value: Json | undefined): string {
  if (value === undefined || value === null || value === '') return '-';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '-';
    return value.map((item) => (isObject(item) && typeof item.name === 'string' ? item.name : typeof item === 'string' ? item : JSON.stringify(item))).join(', ');
  }
  return JSON.stringify(value);
}

// No colours: output is the same on a terminal, in a pipe and in tests.
const STYLE = { head: [], border: [] };

export function renderTable(items: readonly JsonObject[], columns: readonly Column[]): string {
  const table = new Table({ head: columns.map((c) => c.header), style: STYLE });
  for (const item of items) table.push(columns.map((c) => cell(item[c.field])));
  return table.toString() + '\n';
}

/** A single object as a two-column field/value table, fields in the API's order. */
export function renderRecord(value: JsonObject): string {
  const table = new Table({ style: STYLE });
  for (const [field, fieldValue] of Object.entries(value)) table.push([field, cell(fieldValue)]);
  return table.toString() + '\n';
}

/** Renders command results as readable tables, or as the API's JSON with `--json`. */
export class Output {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  private writeJson(value: Json): void {
    this.io.stdout(JSON.stringify(value, null, 2) + '\n');
  }

  record(value: JsonObject): void {
    if (this.json) this.writeJson(value);
    else this.io.stdout(renderRecord(value));
  }

  list(page: Page, columns: readonly Column[]): void {
    if (this.json) {
      this.writeJson({ items: page.items, nextCursor: page.nextCursor });
      return;
    }
    this.io.stdout(renderTable(page.items, columns));
    if (page.nextCursor !== null) this.io.stdout(`more results: add --cursor ${page.nextCursor} (or --all)\n`);
  }

  /** Confirms an action the API answers with 204, or a body-less success. */
  done(message: string, value: JsonObject): void {
    if (this.json) this.writeJson(value);
    else this.io.stdout(message + '\n');
  }

  /** Free text for people (table mode only). */
  text(text: string): void {
    if (!this.json) this.io.stdout(text);
  }

  warn(message: string): void {
    this.io.stderr(`warning: ${message}\n`);
  }
}
