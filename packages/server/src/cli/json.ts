import { CliError } from './errors.js';

/** A parsed JSON value; API responses are handled as this, never as `any`. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** One page of an admin API list (`{items, nextCursor}`); keys and credentials omit the cursor. */
export interface Page {
  items: JsonObject[];
  nextCursor: string | null;
}

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asObject(value: Json | undefined, what: string): JsonObject {
  if (!isObject(value)) throw new CliError('invalid_response', `expected ${what} to be a JSON object`);
  return value;
}

export function asPage(value: Json | undefined): Page {
  const body = asObject(value, 'the list response');
  const items = body.items;
  if (!Array.isArray(items) || !items.every(isObject)) throw new CliError('invalid_response', 'expected the list response to hold an "items" array of objects');
  const cursor = body.nextCursor;
  return { items, nextCursor: typeof cursor === 'string' && cursor !== '' ? cursor : null };
}
