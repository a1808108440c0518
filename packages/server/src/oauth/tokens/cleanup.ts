import type { Db } from '../../db/connect.js';
import { codeStore } from './code-store.js';
import { refreshTokenStore } from './refresh-store.js';
import { requestStore } from './request-store.js';

/** Spent or expired codes are kept this long after expiry, so a late second use is still seen as reuse. */
const CODE_KEEP_MS = 24 * 3600_000;

/** Removes ended authorization requests, old codes and idle-expired refresh tokens. */
export async function forgetExpiredAuthorizations(db: Db, now: number): Promise<void> {
  await requestStore.deleteExpired(db, now);
  await codeStore.deleteExpired(db, now - CODE_KEEP_MS);
  await refreshTokenStore.deleteExpired(db, now);
}
