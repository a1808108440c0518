import { hash } from 'node:crypto';
import type { AuditEventsTable } from '../db/schema.js';
import type { AuditRecord } from './model.js';

/** The previous hash of the first record of a chain. */
export const GENESIS = '';

/**
 * The canonical encoding of a stored event: a JSON array of its columns in a fixed order. `data`
 * is hashed as the exact stored text, so no key-ordering rules are needed.
 */
export function canonicalEvent(row: Omit<AuditEventsTable, 'hash'>): string {
  return JSON.stringify([
    1,
    row.chain_id,
    row.seq,
    row.prev_hash,
    row.id,
    row.tenant_id,
    row.time,
    row.type,
    row.outcome,
    row.actor_id,
    row.actor_kind,
    row.subject_id,
    row.client_id,
    row.credential_id,
    row.credential_type,
    row.resource,
    row.jti,
    row.target_type,
    row.target_id,
    row.source_ip,
    row.user_agent,
    row.request_id,
    row.data,
  ]);
}

/** SHA-256 of the canonical encoding, base64url. The hash covers `prev_hash`, which links the chain. */
export function eventHash(row: Omit<AuditEventsTable, 'hash'>): string {
  return hash('sha256', canonicalEvent(row), 'base64url');
}

export function sha256(text: string): string {
  return hash('sha256', text, 'base64url');
}

/**
 * The hash of an event as read back (from the database or an export): `data` is re-serialized,
 * which reproduces the stored text exactly because it was written by JSON.stringify.
 */
export function recordHash(r: Omit<AuditRecord, 'hash'>): string {
  return eventHash({
    chain_id: r.chainId,
    seq: r.seq,
    prev_hash: r.prevHash,
    id: r.id,
    tenant_id: r.tenantId,
    time: r.time,
    type: r.type,
    outcome: r.outcome,
    actor_id: r.actorId,
    actor_kind: r.actorKind,
    subject_id: r.subjectId,
    client_id: r.clientId,
    credential_id: r.credentialId,
    credential_type: r.credentialType,
    resource: r.resource,
    jti: r.jti,
    target_type: r.targetType,
    target_id: r.targetId,
    source_ip: r.sourceIp,
    user_agent: r.userAgent,
    request_id: r.requestId,
    data: JSON.stringify(r.data),
  });
}
