import type { Db } from '../db/connect.js';

/** Removes what sign-in no longer needs: expired sessions and sign-ins in progress, spent or expired WebAuthn challenges and invitations. */
export async function forgetExpiredSignIns(db: Db, now: number): Promise<void> {
  await db.deleteFrom('people_sessions').where('expires_at', '<=', now).execute();
  await db.deleteFrom('people_webauthn_challenges').where('expires_at', '<=', now).execute();
  await db.deleteFrom('people_invitations').where('expires_at', '<=', now - 30 * 86400_000).execute();
}
