import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { delayAfter, SignInThrottle, THROTTLE_RULES } from '../../src/people/throttle.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { auditOf, createUser, FormClient, passwordSignIn, type TestUser } from './helpers.js';

describe('people: throttle rules', () => {
  it('grows delays after the free attempts and caps them', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((n) => delayAfter(THROTTLE_RULES.accountSource, n)), [0, 0, 0, 1000, 2000, 4000]);
    assert.equal(delayAfter(THROTTLE_RULES.accountSource, 40), 15 * 60_000);
    assert.equal(delayAfter(THROTTLE_RULES.account, 40), 60_000);
  });

  it('exempts a known device from the per-account delay but not from its own failures', () => {
    let now = 0;
    const t = new SignInThrottle(() => now);
    const key = (source: string, knownDevice = false) => ({ tenantId: 't', account: 'u', source, knownDevice });
    for (let i = 0; i < 12; i++) t.failed(key(`10.0.0.${i}`));
    assert.equal(t.waitMs(key('10.9.9.9')), 4000, 'a new source waits for the account delay');
    assert.equal(t.waitMs(key('10.9.9.9', true)), 0, 'a known device does not');
    now += 4000;
    assert.equal(t.waitMs(key('10.9.9.9')), 0);
  });
});

describe('people: brute-force protection over HTTP', () => {
  let server: TestServer;
  let alice: TestUser;

  before(async () => {
    // A first delay of 20 s (SIGNET_SIGN_IN_DELAY_MS): longer than any request takes on a busy
    // machine, so what is held and what is not depends only on the server's (movable) clock.
    server = await startTestServer({ SIGNET_TRUST_PROXY: '127.0.0.1', SIGNET_SIGN_IN_DELAY_MS: '20000' });
    alice = await createUser(server, 'default', 'alice');
  });
  after(() => server.close());

  it('delays a source after 3 failures on an account — even the right password — then lets it try again', async () => {
    const client = new FormClient(server.url, { 'x-forwarded-for': '10.1.0.1' });
    for (let i = 0; i < 3; i++) assert.equal((await passwordSignIn(client, 'default', 'alice', 'wrong guess')).status, 401);
    const held = await passwordSignIn(client, 'default', 'alice', alice.password);
    assert.equal(held.status, 429);
    assert.match(held.headers.get('retry-after') ?? '', /^(19|20)$/);
    assert.match(held.textOf('form-error') ?? '', /^Too many failed attempts\. Wait (19|20) seconds, then try again\.$/);
    const failures = await auditOf(server, 'default', 'session.sign_in_failed');
    assert.equal(failures.at(-1)!.data.reason, 'throttled');
    assert.equal(failures.at(-1)!.sourceIp, '10.1.0.1');
    server.advance(20_000);
    assert.equal((await passwordSignIn(client, 'default', 'alice', alice.password)).status, 303);
  });

  it('throttles an unknown name exactly like a known one (no enumeration through throttling)', async () => {
    const answers: number[][] = [];
    for (const [name, ip] of [['alice', '10.2.0.1'], ['no-such-user', '10.2.0.2']] as const) {
      const client = new FormClient(server.url, { 'x-forwarded-for': ip });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await passwordSignIn(client, 'default', name, 'wrong guess')).status);
      answers.push(statuses);
    }
    assert.deepEqual(answers[0], [401, 401, 401, 429, 429]);
    assert.deepEqual(answers[1], answers[0]);
  });

  it('cannot lock a user out by guessing at their name: their known browser signs in during an attack', async () => {
    const bob = await createUser(server, 'default', 'bob');
    const victim = new FormClient(server.url, { 'x-forwarded-for': '10.3.0.1' });
    assert.equal((await passwordSignIn(victim, 'default', 'bob', bob.password)).status, 303);
    // A distributed attack: 4 sources × 3 guesses each stays under each source's own allowance,
    // but after 10 failures the account itself is delayed for browsers that never signed in as bob.
    const statuses: number[] = [];
    for (let s = 0; s < 4; s++) {
      const attacker = new FormClient(server.url, { 'x-forwarded-for': `10.3.1.${s}` });
      for (let i = 0; i < 3; i++) statuses.push((await passwordSignIn(attacker, 'default', 'bob', `guess ${s}-${i}`)).status);
    }
    assert.deepEqual(statuses, [...Array(10).fill(401), 429, 429]);
    const stranger = new FormClient(server.url, { 'x-forwarded-for': '10.3.2.1' });
    assert.equal((await passwordSignIn(stranger, 'default', 'bob', bob.password)).status, 429, 'a browser never used for bob waits out the account delay');
    victim.cookies.delete('sgn-s-default');
    assert.ok(victim.cookies.has('sgn-d-default'), 'the device cookie stays after the session');
    const again = await passwordSignIn(victim, 'default', 'bob', bob.password);
    assert.equal(again.status, 303, "bob's own browser is not held up");
    // The per-account delay never exceeds a minute: the stranger gets through after it.
    server.advance(60_000);
    assert.equal((await passwordSignIn(stranger, 'default', 'bob', bob.password)).status, 303);
  });
});
