import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Credential } from '../../src/credentials/model.js';
import { CandidateIndex } from '../../src/federation/candidates.js';
import { evaluate } from '../../src/federation/evaluate.js';
import { describeExpressionError, ExpressionError, MAX_EXPRESSION_LENGTH, parseExpression } from '../../src/federation/expression.js';
import { compileGlob, globMatches, type GlobToken } from '../../src/federation/glob.js';

const github = {
  sub: 'repo:acme/api:environment:prod',
  repository: 'acme/api',
  ref: 'refs/heads/release/2026.11',
  environment: 'prod',
  run_attempt: '1',
  groups: ['deployers', 'readers'],
  verified: true,
  count: 3,
};
const kubernetes = {
  sub: 'system:serviceaccount:payments:api',
  'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'api', uid: 'u-1' } },
};

const holds = (source: string, claims: Record<string, unknown>) => evaluate(parseExpression(source), claims);

function parseError(source: string): ExpressionError {
  try {
    parseExpression(source);
  } catch (error) {
    assert.ok(error instanceof ExpressionError, String(error));
    return error;
  }
  assert.fail(`"${source}" parsed`);
}

function glob(pattern: string): GlobToken[] {
  const tokens = compileGlob(pattern);
  assert.ok(Array.isArray(tokens), JSON.stringify(tokens));
  return tokens;
}

describe('claims expressions: evaluation', () => {
  it('equality, &&, || and ! with the usual precedence (&& binds tighter than ||)', () => {
    assert.equal(holds('repository == "acme/api" && environment == "prod"', github), true);
    assert.equal(holds('repository == "acme/api" && environment == "staging"', github), false);
    assert.equal(holds('environment == "staging" || repository == "acme/api" && environment == "prod"', github), true);
    assert.equal(holds('(environment == "staging" || repository == "acme/api") && environment == "staging"', github), false);
    assert.equal(holds('!(environment == "staging")', github), true);
    assert.equal(holds('!!(environment == "prod")', github), true);
    assert.equal(holds("environment == 'prod'", github), true);
    assert.equal(holds('"prod" == environment', github), true);
  });

  it('!= holds only for a present claim with another value', () => {
    assert.equal(holds('environment != "staging"', github), true);
    assert.equal(holds('environment != "prod"', github), false);
    assert.equal(holds('missing != "prod"', github), false);
  });

  it('a missing claim makes every test on it false; ! of that test is true, as written', () => {
    assert.equal(holds('missing == "x"', github), false);
    assert.equal(holds('missing matches "*"', github), false);
    assert.equal(holds('missing in ["x"]', github), false);
    assert.equal(holds('"x" in missing', github), false);
    assert.equal(holds('!(missing == "x")', github), true);
  });

  it('values compare by type: no string/number coercion', () => {
    assert.equal(holds('run_attempt == "1"', github), true);
    assert.equal(holds('run_attempt == 1', github), false);
    assert.equal(holds('count == 3', github), true);
    assert.equal(holds('verified == true', github), true);
    assert.equal(holds('verified', github), true);
    assert.equal(holds('environment', github), false, 'a bare claim holds only when it is true');
  });

  it('in: a value in a list literal, or a list claim containing a value', () => {
    assert.equal(holds('environment in ["prod", "staging"]', github), true);
    assert.equal(holds('environment in ["dev"]', github), false);
    assert.equal(holds('environment in []', github), false);
    assert.equal(holds('"deployers" in groups', github), true);
    assert.equal(holds('"admins" in groups', github), false);
    assert.equal(holds('"acme/api" in repository', github), false, 'a string claim is not a list');
  });

  it('matches: glob patterns', () => {
    assert.equal(holds('ref matches "refs/heads/release/*"', github), true);
    assert.equal(holds('ref matches "refs/heads/*"', github), false, '* does not cross /');
    assert.equal(holds('ref matches "refs/heads/**"', github), true);
    assert.equal(holds('sub matches "repo:acme/*:environment:prod"', github), true);
  });

  it('nested claims: dotted names try dotted keys first, then nesting (Kubernetes kubernetes.io)', () => {
    assert.equal(holds('kubernetes.io.namespace == "payments" && kubernetes.io.serviceaccount.name == "api"', kubernetes), true);
    assert.equal(holds('["kubernetes.io"].namespace == "payments"', kubernetes), true);
    assert.equal(holds('["kubernetes.io"]["serviceaccount"].name == "api"', kubernetes), true);
    assert.equal(holds('kubernetes.io.namespace == "payments"', { kubernetes: { io: { namespace: 'payments' } } }), true);
    assert.equal(holds('kubernetes.io.namespace == "payments"', { 'kubernetes.io.namespace': 'payments' }), true);
    // The longest dotted key wins, but a shorter one is tried when the longer leads nowhere.
    assert.equal(holds('a.b.c == 1', { 'a.b': { x: 1 }, a: { b: { c: 1 } } }), true);
    // A bracketed key is one key, never split.
    assert.equal(holds('["kubernetes.io.namespace"] == "payments"', kubernetes), false);
  });

  it('never reads inherited properties', () => {
    assert.equal(holds('constructor.name == "Object"', {}), false);
    assert.equal(holds('__proto__ == "x"', {}), false);
    assert.equal(holds('toString matches "*"', {}), false);
  });
});

describe('claims expressions: parse errors point at the problem', () => {
  const cases: [string, number, RegExp][] = [
    ['', 0, /expression is empty/],
    ['repository == ', 14, /expected a claim name or a value after the comparison but found the end/],
    ['repository = "acme/api"', 11, /unexpected "=" \(did you mean "=="\?\)/],
    ['a == "x" & b == "y"', 9, /unexpected "&" \(did you mean "&&"\?\)/],
    ['a == "x" || (b == "y"', 21, /expected "\)" but found the end/],
    ['a == "x" b == "y"', 9, /expected "&&", "\|\|" or the end of the expression but found "b"/],
    ['a == "unterminated', 5, /unterminated string/],
    ['a == "bad \\n escape"', 10, /unknown escape/],
    ['ref matches refs', 12, /expected a quoted glob pattern after "matches" but found "refs"/],
    ['a in "x"', 5, /"in" needs a list or a claim name/],
    ['a in [x]', 6, /expected a string, number, true or false in the list but found "x"/],
    ['a in ["x" "y"]', 10, /expected "," or "\]" but found a string/],
    ['"x"', 0, /a value on its own is not a condition/],
    ['a.', 2, /expected a claim name after "." but found the end/],
    ['a[1] == "x"', 2, /expected a quoted claim name inside "\[ \]" but found a number/],
    ['a == "x" #', 9, /unexpected character "#"/],
  ];
  for (const [source, position, reason] of cases) {
    it(`${JSON.stringify(source)} → position ${position}`, () => {
      const error = parseError(source);
      assert.match(error.reason, reason);
      assert.equal(error.position, position, error.message);
    });
  }

  it('a malformed glob points into the pattern', () => {
    // The string `abc\` is valid; as a glob its trailing backslash escapes nothing.
    const error = parseError('ref matches "abc\\\\"');
    assert.match(error.reason, /invalid glob: pattern ends with a lone "\\"/);
    assert.equal(error.position, 16);
  });

  it('nesting is bounded', () => {
    assert.match(parseError(`${'('.repeat(40)}a == "x"${')'.repeat(40)}`).reason, /nested more than 32 levels/);
    assert.match(parseError(`${'!'.repeat(40)}a`).reason, /nested more than 32 levels/);
  });

  it('length is bounded', () => {
    assert.match(parseError(`a == "${'x'.repeat(MAX_EXPRESSION_LENGTH)}"`).reason, /longer than 4096/);
  });

  it('the admin message shows the reason, the position and a marker under the problem', () => {
    const source = 'repository == "acme/api" && ref matches';
    const message = describeExpressionError(source, parseError(source));
    assert.equal(
      message,
      'claims: expected a quoted glob pattern after "matches" but found the end of the expression at position 39\n' +
        '  repository == "acme/api" && ref matches\n' +
        `  ${' '.repeat(39)}^`,
    );
  });
});

describe('glob matching', () => {
  it('literal, ?, *, ** and escapes', () => {
    assert.equal(globMatches(glob('abc'), 'abc'), true);
    assert.equal(globMatches(glob('abc'), 'abcd'), false);
    assert.equal(globMatches(glob('a?c'), 'abc'), true);
    assert.equal(globMatches(glob('a?c'), 'a/c'), false);
    assert.equal(globMatches(glob('a*'), 'a'), true);
    assert.equal(globMatches(glob('a*c'), 'abbbc'), true);
    assert.equal(globMatches(glob('a*c'), 'ab/bc'), false);
    assert.equal(globMatches(glob('a**c'), 'ab/bc'), true);
    assert.equal(globMatches(glob('**'), ''), true);
    assert.equal(globMatches(glob('a\\*'), 'a*'), true);
    assert.equal(globMatches(glob('a\\*'), 'ab'), false);
    assert.equal(globMatches(glob('*/*'), 'x/y'), true);
    assert.equal(globMatches(glob('*/*'), 'x/y/z'), false);
  });

  it('stays linear on patterns that make backtracking matchers explode', () => {
    const pattern = glob(`${'*a'.repeat(30)}b`);
    const value = 'a'.repeat(4000);
    const started = process.hrtime.bigint();
    assert.equal(globMatches(pattern, value), false);
    assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 500);
  });

  it('refuses over-long values instead of matching them', () => {
    assert.equal(globMatches(glob('**'), 'x'.repeat(5000)), false);
  });
});

describe('candidate index', () => {
  const TENANT = '0190a000-0000-7000-8000-000000000000';
  let n = 0;
  function fed(over: { subject?: string; claims?: string; principalId?: string }): Credential {
    n += 1;
    const id = `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`;
    return {
      id,
      tenantId: TENANT,
      principalId: over.principalId ?? 'p',
      type: 'federated',
      description: null,
      secretDigest: null,
      publicJwk: null,
      thumbprint: null,
      certificate: null,
      createdAt: 0,
      expiresAt: null,
      lastUsedAt: null,
      federation: { issuer: 'https://i', audience: 'a', subject: over.subject ?? null, claims: over.claims ?? null, jwks: null },
    };
  }

  it('finds exactly what evaluating every credential finds, exact subjects first', () => {
    const credentials = [
      fed({ claims: 'repository == "acme/api" && ref matches "refs/heads/release/*"' }),
      fed({ claims: '"acme/api" == repository' }),
      fed({ claims: 'repository == "acme/web"' }),
      fed({ claims: 'repository != "acme/web" && environment == "prod"' }),
      fed({ claims: 'environment in ["prod"] || repository == "x"' }),
      fed({ claims: 'kubernetes.io.namespace == "payments"' }),
      fed({ subject: 'repo:acme/api:environment:prod' }),
      fed({ subject: 'repo:acme/other:environment:prod' }),
    ];
    const index = new CandidateIndex(credentials);
    const found = index.match(github).map((c) => c.credential.id);
    const expected = [credentials[6], credentials[0], credentials[1], credentials[3], credentials[4]].map((c) => c?.id);
    assert.deepEqual(found, expected);
    assert.deepEqual(index.match(kubernetes).map((c) => c.credential.id), [credentials[5]?.id]);
  });

  it('matches one token against 1,000 indexed expressions by reading a handful of claims, not 1,000 evaluations', () => {
    const credentials = Array.from({ length: 1000 }, (_, i) => fed({ claims: `repository == "acme/repo-${i}" && ref matches "refs/heads/release/*" && environment == "prod"` }));
    const index = new CandidateIndex(credentials);
    let reads = 0;
    // Counts every claim lookup (evaluation reads own properties only).
    const claims = new Proxy(
      { ...github, repository: 'acme/repo-999' },
      {
        getOwnPropertyDescriptor(target, key) {
          reads += 1;
          return Reflect.getOwnPropertyDescriptor(target, key);
        },
      },
    );
    assert.deepEqual(index.match(claims).map((c) => c.credential.id), [credentials[999]?.id]);
    assert.ok(reads <= 10, `${reads} claim lookups`);
    reads = 0;
    assert.deepEqual(index.match(new Proxy({ ...github, repository: 'acme/unknown' }, { getOwnPropertyDescriptor: (t, k) => ((reads += 1), Reflect.getOwnPropertyDescriptor(t, k)) })), []);
    assert.ok(reads <= 3, `${reads} claim lookups for a token that matches nothing`);
  });

  it('without a required equality every expression is evaluated (the scanned case the benchmark measures)', () => {
    const credentials = Array.from({ length: 100 }, (_, i) => fed({ claims: `repository in ["acme/repo-${i}"]` }));
    let reads = 0;
    const claims = new Proxy({ ...github, repository: 'acme/repo-99' }, { getOwnPropertyDescriptor: (t, k) => ((reads += 1), Reflect.getOwnPropertyDescriptor(t, k)) });
    assert.deepEqual(new CandidateIndex(credentials).match(claims).map((c) => c.credential.id), [credentials[99]?.id]);
    assert.ok(reads >= 100, `${reads} claim lookups`);
  });
});
