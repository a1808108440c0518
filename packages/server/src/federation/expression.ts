import { compileGlob, type GlobToken } from './glob.js';

/**
 * The claims expression language of federated credentials, parsed once (at creation, and when a
 * credential is loaded) into an AST that `evaluate.ts` walks. No code is ever generated or eval'd.
 *
 *   expr       := and ( "||" and )*
 *   and        := unary ( "&&" unary )*
 *   unary      := "!" unary | "(" expr ")" | test
 *   test       := value ( "==" value | "!=" value | "matches" string | "in" (list | path) )?
 *   value      := path | string | number | "true" | "false" | list
 *   path       := ( name | "[" string "]" ) ( "." name | "[" string "]" )*
 *
 * On the left of a test `[` starts a path (`["kubernetes.io"].namespace`); on the right, a list.
 *   name       := [A-Za-z_$][A-Za-z0-9_$-]*
 *   list       := "[" ( literal ( "," literal )* )? "]"
 *
 * A test that is a bare path holds when that claim is `true`. Strings use double or single quotes
 * with `\\`, `\"`, `\'` escapes. How a dotted path finds nested and dotted claim names is in
 * `evaluate.ts` (`resolvePath`).
 */
export type Literal = string | number | boolean;
export type Operand = { k: 'path'; path: PathSegment[] } | { k: 'lit'; value: Literal } | { k: 'list'; items: Literal[] };
/** A dotted name (may also match a key containing dots) or a bracketed key (matches exactly). */
export type PathSegment = { name: string; exact: boolean };

export type Expr =
  | { k: 'or'; items: Expr[] }
  | { k: 'and'; items: Expr[] }
  | { k: 'not'; item: Expr }
  | { k: 'eq'; left: Operand; right: Operand; negate: boolean }
  | { k: 'matches'; left: Operand; glob: GlobToken[] }
  | { k: 'in'; left: Operand; right: Operand }
  | { k: 'truthy'; path: PathSegment[] };

export const MAX_EXPRESSION_LENGTH = 4096;
const MAX_DEPTH = 32;
const MAX_LIST = 256;

/** A malformed expression: `position` is the 0-based character offset of the problem. */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
  }
}

type Token =
  | { t: 'op'; v: '&&' | '||' | '!' | '(' | ')' | '[' | ']' | '.' | ',' | '==' | '!='; at: number }
  | { t: 'name'; v: string; at: number }
  | { t: 'str'; v: string; at: number }
  | { t: 'num'; v: number; at: number }
  | { t: 'end'; at: number };

const NAME_START = /[A-Za-z_$]/;
const NAME_PART = /[A-Za-z0-9_$-]/;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '&&' || two === '||' || two === '==' || two === '!=') {
      tokens.push({ t: 'op', v: two, at: i });
      i += 2;
    } else if ('!()[].,'.includes(c)) {
      tokens.push({ t: 'op', v: c as '!', at: i });
      i++;
    } else if (c === '"' || c === "'") {
      const at = i;
      let value = '';
      i++;
      for (;;) {
        const d = src[i];
        if (d === undefined) throw new ExpressionError('unterminated string', at);
        if (d === c) break;
        if (d === '\\') {
          const e = src[i + 1];
          if (e !== '\\' && e !== '"' && e !== "'") throw new ExpressionError('unknown escape in string (use \\\\, \\" or \\\')', i);
          value += e;
          i += 2;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ t: 'str', v: value, at });
      i++;
    } else if (/[0-9-]/.test(c)) {
      const match = /^-?(0|[1-9][0-9]{0,14})/.exec(src.slice(i));
      if (!match) throw new ExpressionError(`unexpected character "${c}"`, i);
      tokens.push({ t: 'num', v: Number(match[0]), at: i });
      i += match[0].length;
    } else if (NAME_START.test(c)) {
      const at = i;
      while (i < src.length && NAME_PART.test(src[i] as string)) i++;
      tokens.push({ t: 'name', v: src.slice(at, i), at });
    } else if (c === '=' || c === '&' || c === '|') {
      throw new ExpressionError(`unexpected "${c}" (did you mean "${c}${c}"?)`, i);
    } else {
      throw new ExpressionError(`unexpected character "${c}"`, i);
    }
  }
  tokens.push({ t: 'end', at: src.length });
  return tokens;
}

const KEYWORDS = new Set(['matches', 'in', 'true', 'false']);

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }
  private next(): Token {
    return this.tokens[this.i++] as Token;
  }
  private isOp(v: string): boolean {
    const t = this.peek();
    return t.t === 'op' && t.v === v;
  }
  private isWord(v: string): boolean {
    const t = this.peek();
    return t.t === 'name' && t.v === v;
  }
  private expect(v: string, what: string): void {
    if (!this.isOp(v)) throw this.unexpected(what);
    this.i++;
  }
  private unexpected(expected: string): ExpressionError {
    const t = this.peek();
    const found = t.t === 'end' ? 'the end of the expression' : t.t === 'str' ? 'a string' : t.t === 'num' ? 'a number' : `"${t.v}"`;
    return new ExpressionError(`expected ${expected} but found ${found}`, t.at);
  }

  parse(): Expr {
    const expr = this.or();
    if (this.peek().t !== 'end') throw this.unexpected('"&&", "||" or the end of the expression');
    return expr;
  }

  private or(): Expr {
    if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression is nested more than ${MAX_DEPTH} levels deep`, this.peek().at);
    const items = [this.and()];
    while (this.isOp('||')) {
      this.i++;
      items.push(this.and());
    }
    this.depth--;
    return items.length === 1 ? (items[0] as Expr) : { k: 'or', items };
  }

  private and(): Expr {
    const items = [this.unary()];
    while (this.isOp('&&')) {
      this.i++;
      items.push(this.unary());
    }
    return items.length === 1 ? (items[0] as Expr) : { k: 'and', items };
  }

  private unary(): Expr {
    if (this.isOp('!')) {
      this.i++;
      if (++this.depth > MAX_DEPTH) throw new ExpressionError(`expression is nested more than ${MAX_DEPTH} levels deep`, this.peek().at);
      const item = this.unary();
      this.depth--;
      return { k: 'not', item };
    }
    if (this.isOp('(')) {
      this.i++;
      const inner = this.or();
      this.expect(')', '")"');
      return inner;
    }
    return this.test();
  }

  private test(): Expr {
    const start = this.peek();
    const left = this.operand('a claim name, a string, a number, "!" or "("', 'left');
    if (this.isOp('==') || this.isOp('!=')) {
      const negate = (this.next() as { v: string }).v === '!=';
      return { k: 'eq', left, right: this.operand('a claim name or a value after the comparison', 'right'), negate };
    }
    if (this.isWord('matches')) {
      this.i++;
      const pattern = this.peek();
      if (pattern.t !== 'str') throw this.unexpected('a quoted glob pattern after "matches"');
      this.i++;
      const glob = compileGlob(pattern.v);
      if ('error' in glob) throw new ExpressionError(`invalid glob: ${glob.error}`, pattern.at + 1 + glob.offset);
      return { k: 'matches', left, glob };
    }
    if (this.isWord('in')) {
      this.i++;
      const right = this.operand('a list or a claim name after "in"', 'right');
      if (right.k === 'lit') throw new ExpressionError('"in" needs a list or a claim name on its right', this.tokens[this.i - 1]?.at ?? 0);
      return { k: 'in', left, right };
    }
    if (left.k !== 'path') throw new ExpressionError('a value on its own is not a condition: compare it with "==", "matches" or "in"', start.at);
    return { k: 'truthy', path: left.path };
  }

  /** On the left of a test `["key"]` starts a path; on the right `[` starts a list. */
  private operand(expected: string, side: 'left' | 'right'): Operand {
    const t = this.peek();
    if (t.t === 'str' || t.t === 'num') {
      this.i++;
      return { k: 'lit', value: t.v };
    }
    if (t.t === 'name' && (t.v === 'true' || t.v === 'false')) {
      this.i++;
      return { k: 'lit', value: t.v === 'true' };
    }
    if (t.t === 'name' && !KEYWORDS.has(t.v)) return { k: 'path', path: this.path() };
    if (this.isOp('[')) return side === 'left' ? { k: 'path', path: this.path() } : { k: 'list', items: this.list() };
    throw this.unexpected(expected);
  }

  private path(): PathSegment[] {
    const segments: PathSegment[] = [];
    const first = this.peek();
    if (first.t === 'name') {
      this.i++;
      segments.push({ name: first.v, exact: false });
    } else {
      segments.push(this.bracket());
    }
    for (;;) {
      if (this.isOp('.')) {
        this.i++;
        const t = this.peek();
        if (t.t !== 'name') throw this.unexpected('a claim name after "."');
        this.i++;
        segments.push({ name: t.v, exact: false });
      } else if (this.isOp('[')) {
        segments.push(this.bracket());
      } else {
        return segments;
      }
    }
  }

  private bracket(): PathSegment {
    this.expect('[', '"["');
    const key = this.peek();
    if (key.t !== 'str') throw this.unexpected('a quoted claim name inside "[ ]"');
    this.i++;
    this.expect(']', '"]"');
    return { name: key.v, exact: true };
  }

  private list(): Literal[] {
    this.expect('[', '"["');
    const items: Literal[] = [];
    if (this.isOp(']')) {
      this.i++;
      return items;
    }
    for (;;) {
      const t = this.peek();
      if (t.t === 'str' || t.t === 'num') items.push(t.v);
      else if (t.t === 'name' && (t.v === 'true' || t.v === 'false')) items.push(t.v === 'true');
      else throw this.unexpected('a string, number, true or false in the list');
      this.i++;
      if (items.length > MAX_LIST) throw new ExpressionError(`a list holds at most ${MAX_LIST} items`, t.at);
      if (this.isOp(',')) {
        this.i++;
        continue;
      }
      this.expect(']', '"," or "]"');
      return items;
    }
  }
}

/** Parses a claims expression; throws ExpressionError (with the position of the problem) when it is invalid. */
export function parseExpression(source: string): Expr {
  if (source.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, MAX_EXPRESSION_LENGTH);
  if (source.trim() === '') throw new ExpressionError('expression is empty', 0);
  return new Parser(tokenize(source)).parse();
}

/** The message an admin sees: the reason, the position, and the expression with a marker under it. */
export function describeExpressionError(source: string, error: ExpressionError): string {
  const from = Math.max(0, error.position - 40);
  const excerpt = source.slice(from, error.position + 40).replace(/\s/g, ' ');
  return `claims: ${error.reason} at position ${error.position}\n  ${from > 0 ? '…' : ''}${excerpt}\n  ${' '.repeat(error.position - from + (from > 0 ? 1 : 0))}^`;
}
