import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { addVirtualAuthenticator, launchBrowser, newPage, browserTestsSkipped } from '../helpers/browser.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { auditOf, createUser, type TestUser } from '../people/helpers.js';

/** End to end in Debian's Chromium: the pages as a person uses them, WebAuthn through the virtual authenticator. */
describe('e2e (chromium): people sign in', { skip: browserTestsSkipped() }, () => {
  let server: TestServer;
  let browser: Browser;
  const cspViolations: string[] = [];

  before(async () => {
    server = await startTestServer({ SIGNET_SIGN_IN_DELAY_MS: '20000' }, { host: 'localhost' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(): Promise<Page> {
    const { page } = await newPage(browser);
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    return page;
  }

  async function signIn(page: Page, user: TestUser, password = user.password): Promise<void> {
    await page.goto(`${server.url}/default/login`);
    await page.getByLabel('Username or email').fill(user.username);
    await page.getByLabel('Password').fill(password);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === `${server.url}/default/login`);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await posted;
    await page.waitForLoadState('load');
  }

  const code = (secret: string, steps = 0) => generate({ secret, epoch: Math.floor(server.now() / 1000) + steps * 30 });

  it('signs in with a password, enrols TOTP, and signs in again with a TOTP code', async () => {
    const alice = await createUser(server, 'default', 'alice');
    const page = await open();
    await signIn(page, alice);
    await page.waitForURL(`${server.url}/default/account`);
    assert.equal(await page.textContent('#who'), 'Alice Example');

    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    assert.equal(await page.getByAltText('QR code for your authenticator app').isVisible(), true);
    const secret = (await page.textContent('#totp-secret'))!;
    await page.getByLabel('Code from the app').fill(await code(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    assert.equal(await page.locator('#recovery-codes li').count(), 10);
    await page.getByRole('link', { name: 'Continue' }).or(page.getByRole('link', { name: 'Back to your account' })).click();
    await page.waitForURL(`${server.url}/default/account`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    assert.equal(await page.textContent('.notice'), 'You are signed out.');

    server.advance(30_000);
    await signIn(page, alice);
    await page.waitForURL(`${server.url}/default/login/mfa`);
    await page.getByLabel('Code from your authenticator app').fill(await code(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${server.url}/default/account`);
    assert.match((await page.textContent('main'))!, /This sign-in used two steps\./);
    assert.deepEqual((await auditOf(server, 'default', 'session.signed_in')).at(-1)!.data, { amr: ['pwd', 'otp', 'mfa'], acr: 'urn:signet:acr:mfa' });
  });

  it('registers a passkey and then signs in with it alone (passwordless) and as a second factor', async () => {
    const bob = await createUser(server, 'default', 'bob');
    const page = await open();
    const authenticator = await addVirtualAuthenticator(page);
    await signIn(page, bob);
    await page.waitForURL(`${server.url}/default/account`);
    await page.getByLabel('Passkey name').fill('Test key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${server.url}/default/account/passkeys`);
    assert.equal(await page.locator('#recovery-codes li').count(), 10, 'the first factor comes with recovery codes');
    const credentials = await authenticator.credentials();
    assert.equal(credentials.length, 1);
    assert.equal(credentials[0]!.isResidentCredential, true);
    const enrolled = (await auditOf(server, 'default', 'mfa.enrolled')).at(-1)!;
    assert.equal((enrolled.data.after as { factorType: string }).factorType, 'passkey');
    await page.getByRole('link', { name: 'Back to your account' }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();

    // Passwordless: no username, no password.
    await page.goto(`${server.url}/default/login`);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(`${server.url}/default/account`);
    assert.equal(await page.textContent('#who'), 'Bob Example');
    assert.deepEqual((await auditOf(server, 'default', 'session.signed_in')).at(-1)!.data, { amr: ['hwk', 'user', 'mfa'], acr: 'urn:signet:acr:mfa' });
    const stored = await server.signet.deps.db.selectFrom('people_factors').select('counter').where('user_id', '=', bob.id).executeTakeFirstOrThrow();
    assert.equal(stored.counter, (await authenticator.credentials())[0]!.signCount, 'the signature counter is tracked');
    await page.getByRole('button', { name: 'Sign out' }).click();

    // As the second step after a password.
    await signIn(page, bob);
    await page.waitForURL(`${server.url}/default/login/mfa`);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL(`${server.url}/default/account`);
    assert.deepEqual((await auditOf(server, 'default', 'session.signed_in')).at(-1)!.data, { amr: ['pwd', 'hwk', 'user', 'mfa'], acr: 'urn:signet:acr:mfa' });
  });

  it('refuses a passkey sign-in without user verification', async () => {
    const page = await open();
    const authenticator = await addVirtualAuthenticator(page);
    const carol = await createUser(server, 'default', 'carol');
    await signIn(page, carol);
    await page.waitForURL(`${server.url}/default/account`);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL(`${server.url}/default/account/passkeys`);
    await page.goto(`${server.url}/default/account`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await authenticator.setUserVerified(false);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForLoadState('load');
    const outcome = await Promise.race([
      page.locator('.error').textContent().then((t) => `error: ${t}`),
      page.locator('#webauthn-status').filter({ hasText: /did not complete/ }).textContent().then((t) => `browser: ${t}`),
    ]);
    assert.match(outcome, /^(error: That passkey could not be used to sign in\.|browser: The passkey request did not complete)/);
    assert.notEqual(page.url(), `${server.url}/default/account`);
  });

  it('makes a user with a temporary password choose a new one before anything else', async () => {
    const dana = await createUser(server, 'default', 'dana', { temporary: true });
    const page = await open();
    await signIn(page, dana);
    await page.waitForURL(`${server.url}/default/login/password`);
    await page.getByLabel('New password', { exact: true }).fill('password1');
    await page.getByLabel('New password again').fill('password1');
    await page.getByRole('button', { name: 'Save password' }).click();
    assert.equal(await page.getByRole('alert').textContent(), 'this password is on the list of commonly used passwords; choose another');
    await page.getByLabel('New password', { exact: true }).fill('dana has a better one');
    await page.getByLabel('New password again').fill('dana has a better one');
    await page.getByRole('button', { name: 'Save password' }).click();
    await page.waitForURL(`${server.url}/default/account`);
    assert.equal(await page.textContent('#who'), 'Dana Example');
  });

  it('slows down repeated wrong passwords in the browser', async () => {
    const erin = await createUser(server, 'default', 'erin');
    const page = await open();
    for (let i = 0; i < 3; i++) {
      await signIn(page, erin, `wrong ${i}`);
      assert.equal(await page.getByRole('alert').textContent(), 'The username or password is incorrect.');
    }
    // The right password too is held while the delay (20 s here: SIGNET_SIGN_IN_DELAY_MS) runs.
    await signIn(page, erin);
    assert.match((await page.getByRole('alert').textContent()) ?? '', /^Too many failed attempts\. Wait (19|20) seconds, then try again\.$/);
    assert.equal(page.url(), `${server.url}/default/login`);
  });

  it('ran every page without a Content Security Policy violation', () => {
    assert.deepEqual(cspViolations, []);
  });
});
