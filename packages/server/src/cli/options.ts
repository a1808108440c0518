import { InvalidArgumentError, Option, type Command } from 'commander';
import type { JsonObject } from './json.js';

/** Accumulates a repeatable option (`--sponsor a --sponsor b`). */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export const tenantOption = (): Option => new Option('--tenant <tenant>', "tenant id or name (default: the credentials file's tenant)");

export interface PagingOptions {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 500) throw new InvalidArgumentError('must be an integer from 1 to 500');
  return Number(value);
}

/** `--limit`, `--cursor`, `--all` on every paged list. */
export function addPaging(command: Command): Command {
  return command
    .addOption(new Option('--limit <n>', 'page size (1-500)').argParser(parseLimit))
    .addOption(new Option('--cursor <cursor>', 'continue from a previous page').conflicts('all'))
    .option('--all', 'follow cursors and list everything');
}

const PERMISSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/**
 * A scope or role given as `name:description`. Names may themselves hold ':' (`orders:read`), so
 * `name=description` is accepted too; without a separator the name is its own description.
 */
export function parsePermission(value: string): JsonObject {
  const equals = value.indexOf('=');
  const at = equals > 0 && PERMISSION_NAME.test(value.slice(0, equals)) ? equals : value.indexOf(':');
  if (at === -1) return { name: value, description: value };
  const name = value.slice(0, at).trim();
  const description = value.slice(at + 1).trim();
  if (!name) throw new InvalidArgumentError('expected name:description');
  return { name, description: description || name };
}

export const collectPermission = (value: string, previous: JsonObject[] = []): JsonObject[] => [...previous, parsePermission(value)];

/** An ISO 8601 instant, normalised; refuses anything Date cannot read. */
export function parseInstant(value: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidArgumentError('expected an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z');
  return new Date(time).toISOString();
}

/** A JSON object given on the command line (`--settings '{"accessTokenTtl":300}'`). */
export function parseJsonObject(value: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON object');
  return parsed as JsonObject;
}
