import type { Expr, Literal, Operand, PathSegment } from './expression.js';
import { globMatches } from './glob.js';

export type Claims = Readonly<Record<string, unknown>>;

const MISSING = Symbol('missing');
type Resolved = unknown | typeof MISSING;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds a claim by path. Dotted names are tried against nested objects AND against claim names
 * that contain dots: at each level the longest run of the remaining dotted names that is a key of
 * the object is taken first, then shorter runs, so `kubernetes.io.namespace` finds
 * `{"kubernetes.io": {"namespace": …}}` (Kubernetes), `{"kubernetes": {"io": {"namespace": …}}}`
 * and a flat `{"kubernetes.io.namespace": …}` alike. A bracketed key (`["a.b"]`) is one key,
 * never split or joined. Only own properties are read (no prototype lookups).
 */
export function resolvePath(root: unknown, path: readonly PathSegment[], from = 0): Resolved {
  if (from === path.length) return root;
  if (!isObject(root)) return MISSING;
  const first = path[from] as PathSegment;
  if (first.exact) return Object.hasOwn(root, first.name) ? resolvePath(root[first.name], path, from + 1) : MISSING;
  // Longest run of plain (dotted) segments starting here.
  let end = from;
  while (end < path.length && !(path[end] as PathSegment).exact) end++;
  for (let to = end; to > from; to--) {
    const key = to === from + 1 ? first.name : path.slice(from, to).map((s) => s.name).join('.');
    if (!Object.hasOwn(root, key)) continue;
    const found = resolvePath(root[key], path, to);
    if (found !== MISSING) return found;
  }
  return MISSING;
}

function value(operand: Operand, claims: Claims): Resolved {
  switch (operand.k) {
    case 'lit':
      return operand.value;
    case 'list':
      return operand.items;
    case 'path':
      return resolvePath(claims, operand.path);
  }
}

function isLiteral(v: unknown): v is Literal {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

/** Equality of two scalar values of the same type; lists, objects and missing claims are never equal. */
function equal(a: Resolved, b: Resolved): boolean {
  return isLiteral(a) && isLiteral(b) && a === b;
}

/**
 * Evaluates a parsed expression against a token's claims. A missing claim makes every test on it
 * false (`==`, `!=`, `matches`, `in`), so a condition can never hold because a claim is absent;
 * `!` of such a test is true, as written.
 */
export function evaluate(expr: Expr, claims: Claims): boolean {
  switch (expr.k) {
    case 'or':
      return expr.items.some((item) => evaluate(item, claims));
    case 'and':
      return expr.items.every((item) => evaluate(item, claims));
    case 'not':
      return !evaluate(expr.item, claims);
    case 'truthy':
      return resolvePath(claims, expr.path) === true;
    case 'eq': {
      const left = value(expr.left, claims);
      const right = value(expr.right, claims);
      if (!isLiteral(left) || !isLiteral(right)) return false;
      return expr.negate ? left !== right : left === right;
    }
    case 'matches': {
      const subject = value(expr.left, claims);
      return typeof subject === 'string' && globMatches(expr.glob, subject);
    }
    case 'in': {
      const needle = value(expr.left, claims);
      const haystack = value(expr.right, claims);
      return Array.isArray(haystack) && haystack.some((item: unknown) => equal(needle, item));
    }
  }
}
