import type { JWK } from 'jose';
import type { AuditRecord } from './model.js';

/**
 * `signet audit export --format ndjson`: one JSON object per line.
 * 1. a header: `{"kind":"export","version":1,"tenant":…,"since":…,"until":…,"exportedAt":…,"publicKeys":[JWK…]}`
 * 2. every event in the range, oldest first: `{"kind":"event", …AuditRecord}` (data as an object)
 * 3. every checkpoint that seals a head of an exported chain, and the checkpoints it links to:
 *    `{"kind":"checkpoint","id","writer","time","body","hash","signature"}`
 * Offline verification needs only this file and the audit public key.
 */
export interface ExportHeader {
  kind: 'export';
  version: 1;
  tenant: string;
  since: number | null;
  until: number | null;
  exportedAt: number;
  publicKeys: JWK[];
}

export type ExportedEvent = { kind: 'event' } & AuditRecord;

export interface ExportedCheckpoint {
  kind: 'checkpoint';
  id: string;
  writer: string;
  time: number;
  /** Canonical JSON of the CheckpointBody: exactly what was hashed and signed. */
  body: string;
  hash: string;
  /** Compact JWS (EdDSA) whose payload is `body`. */
  signature: string;
}

export type ExportLine = ExportHeader | ExportedEvent | ExportedCheckpoint;
