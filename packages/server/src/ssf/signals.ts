import type { Deps } from '../context.js';
import type { Credential } from '../credentials/model.js';
import { newId } from '../crypto/ids.js';
import type { Db } from '../db/connect.js';
import { CAEP, type StopSignal } from './model.js';
import { ssfStore } from './store.js';

/** Who initiated a stop (CAEP §2 `initiating_entity`). */
export type Initiator = 'admin' | 'policy' | 'user' | 'system';

/**
 * Queues a stop for every receiver of the tenant, in the caller's transaction: the signal exists
 * exactly when the change committed, and the delivery worker pushes it after commit (and after a
 * restart). `issuer` is the tenant's issuer URL, the `iss` of the subject identifier.
 */
export async function queueStop(deps: Pick<Deps, 'clock'>, trx: Db, tenantId: string, signal: StopSignal): Promise<void> {
  const receivers = await ssfStore.receivers(trx, tenantId);
  const now = deps.clock();
  await ssfStore.enqueue(trx, receivers.map((r) => ({ id: newId(), tenantId, receiverId: r.id, signal, now })));
}

/** CAEP session-revoked: every session and token of the principal is revoked (disabled, suspended, deleted). */
export function sessionRevoked(issuer: string, principalId: string, initiator: Initiator, reason: string, at: number): StopSignal {
  return {
    type: CAEP.sessionRevoked,
    subject: { format: 'iss_sub', iss: issuer, sub: principalId },
    event: { event_timestamp: Math.floor(at / 1000), initiating_entity: initiator, reason_admin: { en: reason } },
  };
}

/**
 * CAEP credential-change, change_type `delete`: a credential of the principal (or of a blueprint,
 * for each of its agents) was removed. `credential_type` uses `x509` for certificates and the
 * values `client-secret` / `public-key` (CAEP allows types agreed between transmitter and receiver).
 */
export function credentialRemoved(issuer: string, principalId: string, credential: Credential, at: number): StopSignal {
  const credentialType = credential.type === 'secret' ? 'client-secret' : credential.certificate ? 'x509' : 'public-key';
  return {
    type: CAEP.credentialChange,
    subject: { format: 'iss_sub', iss: issuer, sub: principalId },
    event: { event_timestamp: Math.floor(at / 1000), initiating_entity: 'admin', credential_type: credentialType, change_type: 'delete', reason_admin: { en: `credential ${credential.id} removed` } },
  };
}
