import type { Credential } from '../credentials/model.js';
import { evaluate, resolvePath, type Claims } from './evaluate.js';
import { parseExpression, type Expr, type PathSegment } from './expression.js';

/**
 * The federated credentials for one (tenant, issuer, audience), indexed so matching a token does
 * not evaluate every expression: a principal may hold thousands of them.
 * - exact-subject credentials: a map from `sub`;
 * - expressions with a top-level required equality (`claim == "value"`, alone or as one term of
 *   an `&&`): a map per claim path from value, evaluated in full only when the value matches;
 * - every other expression is evaluated in turn.
 */
export interface Candidate {
  credential: Credential;
  expr: Expr | null;
  /**
   * Which keys verify its tokens: `discovery` (the issuer's published keys) or the credential's own
   * JWKS, by content, so credentials configured with the same cluster keys verify a token once.
   */
  source: string;
}

interface EqualityIndex {
  path: PathSegment[];
  byValue: Map<string, Candidate[]>;
}

/** A top-level `path == "string"` term the expression cannot hold without. */
function requiredEquality(expr: Expr): { path: PathSegment[]; value: string } | null {
  const terms = expr.k === 'and' ? expr.items : [expr];
  for (const term of terms) {
    if (term.k !== 'eq' || term.negate) continue;
    const { left, right } = term;
    if (left.k === 'path' && right.k === 'lit' && typeof right.value === 'string') return { path: left.path, value: right.value };
    if (right.k === 'path' && left.k === 'lit' && typeof left.value === 'string') return { path: right.path, value: left.value };
  }
  return null;
}

/**
 * Parsed expressions by source text. The directory cache reloads a tenant's candidates whenever
 * anything changes and at least every SIGNET_CACHE_STALENESS_MS; parsing is pure, so a reload
 * re-reads rows but never re-parses 1,000 expressions.
 */
const PARSED = new Map<string, Expr>();
const MAX_PARSED = 100_000;

function parsed(source: string): Expr {
  let expr = PARSED.get(source);
  if (!expr) {
    expr = parseExpression(source);
    if (PARSED.size >= MAX_PARSED) PARSED.clear();
    PARSED.set(source, expr);
  }
  return expr;
}

function push<K>(map: Map<K, Candidate[]>, key: K, candidate: Candidate): void {
  const list = map.get(key);
  if (list) list.push(candidate);
  else map.set(key, [candidate]);
}

export class CandidateIndex {
  /** Every candidate, in credential id order. */
  readonly all: Candidate[];
  private readonly bySubject = new Map<string, Candidate[]>();
  private readonly byEquality = new Map<string, EqualityIndex>();
  private readonly scanned: Candidate[] = [];

  constructor(credentials: readonly Credential[]) {
    this.all = credentials.map((credential) => ({
      credential,
      expr: credential.federation?.claims ? parsed(credential.federation.claims) : null,
      source: credential.federation?.jwks ? `jwks:${JSON.stringify(credential.federation.jwks)}` : 'discovery',
    }));
    for (const candidate of this.all) {
      const federation = candidate.credential.federation;
      if (!candidate.expr) {
        if (federation?.subject) push(this.bySubject, federation.subject, candidate);
        continue;
      }
      const required = requiredEquality(candidate.expr);
      if (!required) {
        this.scanned.push(candidate);
        continue;
      }
      const key = JSON.stringify(required.path);
      let index = this.byEquality.get(key);
      if (!index) {
        index = { path: required.path, byValue: new Map() };
        this.byEquality.set(key, index);
      }
      push(index.byValue, required.value, candidate);
    }
  }

  /** Candidates whose subject or expression holds for `claims`: exact subjects first, then expressions in id order. */
  match(claims: Claims): Candidate[] {
    const sub = typeof claims.sub === 'string' ? claims.sub : undefined;
    const exact = sub === undefined ? [] : (this.bySubject.get(sub) ?? []);
    const expressions: Candidate[] = [];
    for (const index of this.byEquality.values()) {
      const value = resolvePath(claims, index.path);
      if (typeof value !== 'string') continue;
      for (const candidate of index.byValue.get(value) ?? []) if (evaluate(candidate.expr as Expr, claims)) expressions.push(candidate);
    }
    for (const candidate of this.scanned) if (evaluate(candidate.expr as Expr, claims)) expressions.push(candidate);
    expressions.sort((a, b) => (a.credential.id < b.credential.id ? -1 : a.credential.id > b.credential.id ? 1 : 0));
    return [...exact, ...expressions];
  }
}
