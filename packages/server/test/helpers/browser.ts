import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';

/**
 * Real headless Chromium for end-to-end tests: Debian's `chromium` package driven by
 * playwright-core (never a downloaded browser build). `.ci/run` installs the package.
 */
export const CHROMIUM = process.env.SIGNET_TEST_CHROMIUM ?? '/usr/bin/chromium';

/**
 * For `describe(name, { skip: browserTestsSkipped() }, …)`: without Chromium the browser suites are
 * skipped on a developer machine (with the reason), but under CI=true they run and fail loudly.
 */
export function browserTestsSkipped(): string | false {
  if (existsSync(CHROMIUM) || process.env.CI === 'true') return false;
  return `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the browser tests`;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install it with "apt-get install -y chromium" (see .ci/run)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** A fresh profile (no cookies) and a page in it. */
export async function newPage(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

export interface VirtualAuthenticator {
  id: string;
  cdp: CDPSession;
  /** Credentials the authenticator holds (each a passkey registered on it). */
  credentials(): Promise<{ credentialId: string; isResidentCredential: boolean; rpId?: string; userHandle?: string; signCount: number }[]>;
  /** Whether the next ceremonies report user verification (PIN/biometric) as performed. */
  setUserVerified(verified: boolean): Promise<void>;
  remove(): Promise<void>;
}

/**
 * Chromium's virtual WebAuthn authenticator (CDP `WebAuthn` domain) attached to `page`: a CTAP2
 * platform authenticator with resident keys (passkeys) and user verification, which answers every
 * ceremony without a person present.
 *
 * WebAuthn needs a secure context and a registrable RP ID: serve the pages from
 * `http://localhost:<port>` (an IP address is never a valid RP ID).
 */
export async function addVirtualAuthenticator(page: Page): Promise<VirtualAuthenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    id: authenticatorId,
    cdp,
    async credentials() {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      return credentials;
    },
    async setUserVerified(verified) {
      await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: verified });
    },
    async remove() {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
    },
  };
}
