/**
 * Glob patterns for the claims expression's `matches` operator.
 *
 * `*` matches any run of characters except `/`, `**` any run including `/`, `?` one character
 * other than `/`; `\` escapes the next character. Everything else matches itself. A pattern is
 * compiled once into tokens and matched in O(pattern × value) without backtracking, so no pattern
 * can make matching slow (no regular expressions, no ReDoS).
 */
export type GlobToken = { t: 'lit'; c: string } | { t: 'one' } | { t: 'seg' } | { t: 'any' };

export const MAX_GLOB_LENGTH = 512;
/** Claim values longer than this never match a glob. */
export const MAX_GLOB_SUBJECT = 4096;

/** Compiles a glob; returns an error message (with its offset in the pattern) when it is malformed. */
export function compileGlob(pattern: string): GlobToken[] | { error: string; offset: number } {
  if (pattern.length > MAX_GLOB_LENGTH) return { error: `pattern is longer than ${MAX_GLOB_LENGTH} characters`, offset: 0 };
  const tokens: GlobToken[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return { error: 'pattern ends with a lone "\\"', offset: i };
      tokens.push({ t: 'lit', c: next });
      i++;
    } else if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (tokens.at(-1)?.t !== 'any') tokens.push({ t: 'any' });
      } else if (tokens.at(-1)?.t !== 'seg' && tokens.at(-1)?.t !== 'any') {
        tokens.push({ t: 'seg' });
      }
    } else if (c === '?') {
      tokens.push({ t: 'one' });
    } else {
      tokens.push({ t: 'lit', c });
    }
  }
  return tokens;
}

/** Whether `value` matches the compiled glob in full. */
export function globMatches(tokens: readonly GlobToken[], value: string): boolean {
  if (value.length > MAX_GLOB_SUBJECT) return false;
  const n = value.length;
  // Leading literal and `?` tokens: compared directly (the common `prefix/*` needs no table).
  let t = 0;
  let at = 0;
  for (; t < tokens.length; t++) {
    const token = tokens[t] as GlobToken;
    if (token.t === 'seg' || token.t === 'any') break;
    const c = value[at];
    if (c === undefined || (token.t === 'one' ? c === '/' : c !== token.c)) return false;
    at++;
  }
  if (t === tokens.length) return at === n;
  // reach[i]: the tokens so far can match exactly value[0, i).
  let reach = new Uint8Array(n + 1);
  let next = new Uint8Array(n + 1);
  reach[at] = 1;
  for (; t < tokens.length; t++) {
    const token = tokens[t] as GlobToken;
    next.fill(0);
    let alive = false;
    if (token.t === 'lit' || token.t === 'one') {
      for (let i = at; i < n; i++) {
        if (reach[i] !== 1) continue;
        const c = value[i] as string;
        if (token.t === 'one' ? c !== '/' : c === token.c) {
          next[i + 1] = 1;
          alive = true;
        }
      }
    } else {
      for (let i = at; i <= n; i++) {
        const grows = i > at && next[i - 1] === 1 && (token.t === 'any' || value[i - 1] !== '/');
        if (reach[i] === 1 || grows) {
          next[i] = 1;
          alive = true;
        }
      }
    }
    if (!alive) return false;
    [reach, next] = [next, reach];
  }
  return reach[n] === 1;
}
