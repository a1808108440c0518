/**
 * The verifier's classification rules on hand-made trails (no database): cases an export can
 * carry but the database's constraints rule out (duplicate seqs), partial ranges, checkpoint form.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import type { JWK } from 'jose';
import { eventHash, GENESIS, sha256 } from '../../src/audit/chain.js';
import type { ChainHead, CheckpointBody } from '../../src/audit/model.js';
import { canonicalCheckpoint } from '../../src/audit/sealer.js';
import { type AuditKey, signCheckpoint } from '../../src/audit/signing-key.js';
import { chainRecordOfRow, type ChainEvents, type CheckpointRecord, verifyAuditTrail, type VerifyOptions } from '../../src/audit/verify.js';
import type { AuditEventsTable } from '../../src/db/schema.js';
import { DAY, failing, unsealed } from './trail-fixture.js';

const T0 = Date.UTC(2026, 0, 1);
const TENANT = 'tenant-a';
const CHAIN = 'chain-a';

function newKey(kid = 'k1'): AuditKey {
  const pair = generateKeyPairSync('ed25519');
  const jwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  return { kid, publicJwk: { ...jwk, kid, alg: 'EdDSA' }, privateKey: pair.privateKey };
}
const KEY = newKey();

function row(seq: number, prevHash: string, over: Partial<AuditEventsTable> = {}): AuditEventsTable {
  const content: Omit<AuditEventsTable, 'hash'> = {
    id: `e-${CHAIN}-${seq}-${over.resource ?? ''}`,
    tenant_id: TENANT,
    chain_id: CHAIN,
    seq,
    prev_hash: prevHash,
    time: T0 + seq * 1000,
    type: 'token.issued',
    outcome: 'success',
    actor_id: 'p-1',
    actor_kind: 'service',
    subject_id: null,
    client_id: 'p-1',
    credential_id: null,
    credential_type: null,
    resource: 'api://orders',
    jti: `j-${seq}`,
    target_type: null,
    target_id: null,
    source_ip: null,
    user_agent: null,
    request_id: null,
    data: '{}',
    ...over,
  };
  return { ...content, hash: eventHash(content) };
}

/** Seq 1..n, correctly linked. */
function chainOf(n: number, start = 1, prev = GENESIS): AuditEventsTable[] {
  const rows: AuditEventsTable[] = [];
  for (let seq = start; seq < start + n; seq++) {
    const r = row(seq, prev);
    rows.push(r);
    prev = r.hash;
  }
  return rows;
}

async function checkpoint(id: string, time: number, heads: ChainHead[], prev: CheckpointRecord | null, key = KEY, edit?: (body: CheckpointBody) => string): Promise<CheckpointRecord> {
  const body: CheckpointBody = { v: 1, id, writer: 'w-1', time, prev: prev && { id: prev.id, hash: prev.hash }, heads };
  const text = edit ? edit(body) : canonicalCheckpoint(body);
  return { id, writer: 'w-1', time, body: text, hash: sha256(text), signature: await signCheckpoint(text, key) };
}

const head = (r: AuditEventsTable | undefined): ChainHead => ({ chain: CHAIN, tenant: TENANT, seq: r?.seq ?? 0, hash: r?.hash ?? '' });

async function verify(rows: AuditEventsTable[], checkpoints: CheckpointRecord[], options: Partial<VerifyOptions> = {}) {
  const chains: ChainEvents[] = [{ chain: { id: CHAIN, tenantId: TENANT }, events: rows.map(chainRecordOfRow) }];
  return verifyAuditTrail({ checkpoints, publicKeys: [KEY.publicJwk], now: T0 + DAY, chains, ...options });
}

describe('audit verify rules', () => {
  it('sorts an input given in any order', async () => {
    const rows = chainOf(40);
    const k1 = await checkpoint('c1', T0 + 50_000, [head(rows[39])], null);
    const report = await verify([...rows].reverse(), [k1]);
    assert.deepEqual(report.findings, []);
    assert.equal(report.stats.events, 40);
  });

  it('of two records for one seq, the one the next record links belongs; the other is inserted (either order)', async () => {
    const rows = chainOf(10);
    const forged = row(5, rows[3]?.hash ?? '', { resource: 'api://forged' });
    const k1 = await checkpoint('c1', T0 + 20_000, [head(rows[9])], null);
    for (const input of [[...rows.slice(0, 4), forged, ...rows.slice(4)], [...rows.slice(0, 5), forged, ...rows.slice(5)]]) {
      const report = await verify(input, [k1]);
      assert.deepEqual(failing(report), [{ kind: 'inserted', seq: 5 }]);
      assert.equal(report.findings[0]?.id, forged.id);
    }
  });

  it('a duplicate of the last record is decided by the checkpoint head', async () => {
    const rows = chainOf(6);
    const forged = row(6, rows[4]?.hash ?? '', { resource: 'api://forged' });
    const k1 = await checkpoint('c1', T0 + 20_000, [head(rows[5])], null);
    const report = await verify([forged, ...rows], [k1]);
    assert.deepEqual(failing(report), [{ kind: 'inserted', seq: 6 }]);
    assert.equal(report.findings[0]?.id, forged.id);
  });

  it('a first record that does not start from the genesis is inserted', async () => {
    const rows = [row(1, 'not-genesis')];
    assert.deepEqual(failing(await verify(rows, [])), [{ kind: 'inserted', seq: 1 }]);
  });

  it('a break whose successor links on: the record before it was rewritten (altered), unless a checkpoint vouches for it (broken_link)', async () => {
    const rows = chainOf(5);
    const rest = chainOf(5, 6, 'elsewhere');
    assert.deepEqual(failing(await verify([...rows, ...rest], [])), [{ kind: 'altered', seq: 5 }]);
    const k1 = await checkpoint('c1', T0 + 20_000, [head(rows[4])], null);
    assert.deepEqual(failing(await verify([...rows, ...rest], [k1])), [{ kind: 'broken_link', seq: 6 }]);
  });

  it('a partial export (since) may start anywhere; its first record still links to a sealed head before it', async () => {
    const rows = chainOf(30);
    const k1 = await checkpoint('c1', T0 + 12_000, [head(rows[9])], null);
    const k2 = await checkpoint('c2', T0 + 40_000, [head(rows[29])], k1);
    const range = { since: T0 + 11_000, until: null };
    assert.deepEqual((await verify(rows.slice(10), [k1, k2], { range })).findings, []);
    assert.deepEqual((await verify(rows.slice(12), [k1, k2], { range })).findings, []);
    // Without the range, the same input has lost its prefix.
    assert.deepEqual(failing(await verify(rows.slice(12), [k1, k2])), [{ kind: 'deleted', seq: 1, toSeq: 12 }]);
    // A gap inside the range is a deletion all the same.
    assert.deepEqual(failing(await verify([...rows.slice(10, 15), ...rows.slice(16)], [k1, k2], { range })), [{ kind: 'deleted', seq: 16, toSeq: 16 }]);
  });

  it('a partial export (until) may end before its last checkpoint', async () => {
    const rows = chainOf(30);
    const k1 = await checkpoint('c1', T0 + 40_000, [head(rows[29])], null);
    assert.deepEqual((await verify(rows.slice(0, 20), [k1], { range: { since: null, until: T0 + 21_000 } })).findings, []);
    assert.deepEqual(failing(await verify(rows.slice(0, 20), [k1])), [{ kind: 'deleted', seq: 21, toSeq: 30 }]);
  });

  it('retention: the prefix must end at a sealed head older than the cutoff, with the hash the chain links', async () => {
    const rows = chainOf(30);
    const k1 = await checkpoint('c1', T0 + 12_000, [head(rows[9])], null);
    const k2 = await checkpoint('c2', T0 + 25_000, [head(rows[19])], k1);
    const retentionDays = new Map([[TENANT, 1]]);
    const later = T0 + 25_000 + DAY + 1;
    assert.deepEqual((await verify(rows.slice(20), [k1, k2], { retentionDays, now: later })).findings.filter((f) => f.kind !== 'unsealed'), []);
    // Only k1 is old enough at this time: seq 11–20 should still be there.
    const between = T0 + 12_000 + DAY + 1;
    assert.deepEqual(failing(await verify(rows.slice(20), [k1, k2], { retentionDays, now: between })), [{ kind: 'deleted', seq: 11, toSeq: 20 }]);
    // Another tenant's policy does not apply.
    assert.deepEqual(failing(await verify(rows.slice(20), [k1, k2], { retentionDays: new Map([['other', 1]]), now: later })), [{ kind: 'deleted', seq: 1, toSeq: 20 }]);
  });

  it('a checkpoint body that is not canonical, or names another id, is invalid even when signed', async () => {
    const rows = chainOf(3);
    const loose = await checkpoint('c1', T0 + 5000, [head(rows[2])], null, KEY, (b) => JSON.stringify({ ...b, heads: b.heads, v: 1, extra: true }));
    const renamed = await checkpoint('c2', T0 + 6000, [head(rows[2])], loose, KEY, (b) => canonicalCheckpoint({ ...b, id: 'c9' }));
    const report = await verify(rows, [loose, renamed]);
    assert.deepEqual(failing(report), [
      { kind: 'checkpoint_invalid', id: 'c1' },
      { kind: 'checkpoint_invalid', id: 'c2' },
    ]);
    assert.match(report.findings[0]?.detail ?? '', /canonical/);
    assert.match(report.findings[1]?.detail ?? '', /names id c9/);
    assert.deepEqual(unsealed(report), [{ kind: 'unsealed', seq: 1, toSeq: 3, count: 3 }]);
  });

  it('a signature by another key is invalid; one of several trusted keys suffices', async () => {
    const rows = chainOf(3);
    const other = newKey('k2');
    const k1 = await checkpoint('c1', T0 + 5000, [head(rows[2])], null, other);
    assert.deepEqual(failing(await verify(rows, [k1])), [{ kind: 'checkpoint_invalid', id: 'c1' }]);
    assert.deepEqual(failing(await verify(rows, [k1], { publicKeys: [KEY.publicJwk, other.publicJwk] })), []);
    // A key named by its kid is not required: a JWK without one is tried too.
    const { kid: _kid, ...anonymous } = other.publicJwk;
    assert.deepEqual(failing(await verify(rows, [k1], { publicKeys: [KEY.publicJwk, anonymous] })), []);
  });

  it('checkpoints of other tenants are not reported when verifying one tenant', async () => {
    const rows = chainOf(3);
    const theirs = await checkpoint('c1', T0 + 4000, [{ chain: 'chain-b', tenant: 'tenant-b', seq: 1, hash: 'x' }], null, newKey());
    const ours = await checkpoint('c2', T0 + 5000, [head(rows[2])], { ...theirs, id: 'c0' });
    assert.deepEqual(failing(await verify(rows, [theirs, ours], { tenants: [TENANT] })), [{ kind: 'checkpoint_missing', id: 'c0' }]);
    assert.deepEqual(failing(await verify(rows, [theirs, ours])), [
      { kind: 'checkpoint_missing', id: 'c0' },
      { kind: 'checkpoint_invalid', id: 'c1' },
    ]);
  });

  it('verifies 50 000 events in a few seconds, streaming', async () => {
    const n = 50_000;
    async function* events() {
      let prev = GENESIS;
      for (let seq = 1; seq <= n; seq++) {
        const r = row(seq, prev);
        prev = r.hash;
        yield chainRecordOfRow(r);
      }
    }
    const started = Date.now();
    const report = await verifyAuditTrail({ checkpoints: [], publicKeys: [KEY.publicJwk], now: T0, chains: [{ chain: { id: CHAIN, tenantId: TENANT }, events: events() }] });
    assert.deepEqual(unsealed(report), [{ kind: 'unsealed', seq: 1, toSeq: n, count: n }]);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  });
});
