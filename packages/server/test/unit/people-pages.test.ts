import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord } from '../../src/audit/model.js';
import { toOcsf } from '../../src/audit/ocsf.js';
import { withFactor } from '../../src/people/flow.js';
import { html, Html, jsonData } from '../../src/people/html.js';
import { passwordProblem } from '../../src/people/passwords.js';
import { normaliseRecoveryCode, newRecoveryCodes } from '../../src/people/recovery-codes.js';
import { safeReturnTo, signInUrl } from '../../src/people/session.js';

describe('people: html', () => {
  it('escapes every interpolated value, but not nested Html', () => {
    const name = `<script>alert("x")</script>' \``;
    assert.equal(html`<p title="${name}">${name}</p>`.value, '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; &#96;</p>');
    assert.equal(html`<ul>${['a<', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.value, '<ul><li>a&lt;</li><li>b</li></ul>');
    assert.equal(html`${null}${undefined}${false}${0}`.value, '0');
    assert.ok(html`x` instanceof Html);
  });

  it('keeps JSON data blocks from closing their script element', () => {
    assert.equal(jsonData({ a: '</script><b>&' }).value, '{"a":"\\u003c/script\\u003e\\u003cb\\u003e\\u0026"}');
  });
});

describe('people: return_to', () => {
  it('accepts only paths inside the tenant', () => {
    assert.equal(safeReturnTo('acme', '/acme/oauth2/authorize/continue?request=1'), '/acme/oauth2/authorize/continue?request=1');
    for (const bad of ['https://evil.example/acme/', '//evil.example/acme/', '/acme\\..\\x', '/other/x', '/acme/../admin', '/acme/%0d%0aSet-Cookie:x', 'javascript:alert(1)', '/acme/\u0000', 42, undefined]) {
      assert.equal(safeReturnTo('acme', bad), bad === '/acme/%0d%0aSet-Cookie:x' ? '/acme/%0d%0aSet-Cookie:x' : undefined, String(bad));
    }
  });

  it('builds sign-in URLs and refuses a foreign returnTo', () => {
    assert.equal(signInUrl('https://id.example.com/acme', '/acme/oauth2/authorize/continue?request=r1', { forceLogin: true, requireMfa: true }), 'https://id.example.com/acme/login?return_to=%2Facme%2Foauth2%2Fauthorize%2Fcontinue%3Frequest%3Dr1&prompt=login&mfa=required');
    assert.throws(() => signInUrl('https://id.example.com/acme', 'https://evil.example/'), /returnTo must be a path inside \/acme\//);
  });
});

describe('people: passwords and factors', () => {
  it('applies the password policy: length, common passwords, own names', () => {
    assert.equal(passwordProblem('short'), 'the password must have at least 8 characters');
    assert.equal(passwordProblem('x'.repeat(257)), 'the password must have at most 256 characters');
    assert.equal(passwordProblem('Iloveyou1'), 'this password is on the list of commonly used passwords; choose another');
    assert.equal(passwordProblem('alice.smith', { username: 'Alice.Smith' }), 'the password must not be your user name or email address');
    assert.equal(passwordProblem('correct horse battery staple'), undefined);
  });

  it('makes 10 distinct recovery codes and compares them without case, spaces or dashes', () => {
    const codes = newRecoveryCodes();
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-9]{5}-[a-z2-9]{5}$/);
    assert.equal(normaliseRecoveryCode(' ABCDE - fghjk '), 'abcdefghjk');
  });

  it('adds mfa to amr only for two kinds of factor, or a user-verified passkey', () => {
    assert.deepEqual(withFactor(['pwd']), ['pwd']);
    assert.deepEqual(withFactor(['pwd'], 'otp'), ['pwd', 'otp', 'mfa']);
    assert.deepEqual(withFactor([], 'hwk'), ['hwk']);
    assert.deepEqual(withFactor([], 'swk', 'user'), ['swk', 'user', 'mfa']);
  });
});

describe('people: OCSF mapping', () => {
  const record = (type: string, outcome: 'success' | 'failure', data: Record<string, unknown>): AuditRecord => ({
    id: 'e1', tenantId: 't1', chainId: 'c1', seq: 1, prevHash: 'p', hash: 'h', time: 1, type, outcome, actorId: 'u1', actorKind: 'user', subjectId: null, clientId: null,
    credentialId: null, credentialType: null, resource: null, jti: null, targetType: type.startsWith('session') ? 'session' : 'principal', targetId: type.startsWith('session') ? 's1' : 'u1',
    sourceIp: '10.0.0.1', userAgent: null, requestId: null, data,
  });

  it('maps sign-ins to Authentication Logon/Logoff with MFA and the failure reason', () => {
    const ok = toOcsf(record('session.signed_in', 'success', { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:signet:acr:mfa' }));
    assert.deepEqual([ok.class_uid, ok.activity_id, ok.type_uid, ok.is_mfa, ok.auth_protocol_id, ok.user?.uid], [3002, 1, 300201, true, 99, 'u1']);
    const failed = toOcsf(record('session.sign_in_failed', 'failure', { step: 'password', reason: 'wrong_password' }));
    assert.deepEqual([failed.class_uid, failed.activity_id, failed.status_id, failed.status_detail], [3002, 1, 2, 'wrong_password']);
    assert.deepEqual([toOcsf(record('session.signed_out', 'success', {})).activity_id], [2]);
  });

  it('maps factor and password changes to Account Change activities', () => {
    const cases: [string, number][] = [['mfa.enrolled', 10], ['mfa.removed', 11], ['password.changed', 3], ['password.reset', 4], ['invitation.accepted', 3], ['invitation.created', 99], ['recovery_codes.generated', 99]];
    for (const [type, activity] of cases) {
      const e = toOcsf(record(type, 'success', { after: { principalId: 'u1', kind: 'user' } }));
      assert.deepEqual([e.class_uid, e.activity_id, e.user?.uid], [3001, activity, 'u1'], type);
    }
  });
});
