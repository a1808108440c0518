import { Type } from 'typebox';

/** A string that must be one of `values`, typed as their union. */
export function OneOf<const T extends readonly [string, ...string[]]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
