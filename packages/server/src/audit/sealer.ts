import type { Db } from '../db/connect.js';
import { newId } from '../crypto/ids.js';
import type { Logger } from '../logger.js';
import { sha256 } from './chain.js';
import type { ChainHead, CheckpointBody } from './model.js';
import { type AuditKey, signCheckpoint } from './signing-key.js';
import { auditChainStore } from './store.js';

export interface SealerOptions {
  db: Db;
  log: Logger;
  clock: () => number;
  writerId: string;
  key: AuditKey;
}

/** Canonical text of a checkpoint body: fixed key order, as built by `checkpointBody`. */
export function canonicalCheckpoint(body: CheckpointBody): string {
  return JSON.stringify({
    v: body.v,
    id: body.id,
    writer: body.writer,
    time: body.time,
    prev: body.prev && { id: body.prev.id, hash: body.prev.hash },
    heads: body.heads.map((h) => ({ chain: h.chain, tenant: h.tenant, seq: h.seq, hash: h.hash })),
  });
}

/**
 * Seals chain heads in signed checkpoints. Each checkpoint names the one before it, so removing
 * a checkpoint breaks the checkpoint chain as removing an event breaks an event chain.
 * A new process first seals every chain (including tails a crashed process left unsealed); after
 * that it seals the chains it writes.
 */
export class AuditSealer {
  private readonly sealed = new Map<string, number>();
  private everything = true;

  constructor(private readonly opts: SealerOptions) {}

  /** Writes a checkpoint if any chain grew since the last one; returns it. */
  async seal(): Promise<CheckpointBody | undefined> {
    let query = this.opts.db.selectFrom('audit_chains').select(['id', 'tenant_id', 'head_seq', 'head_hash']).where('head_seq', '>', 0);
    if (!this.everything) query = query.where('writer_id', '=', this.opts.writerId);
    const chains = await query.orderBy('id').execute();
    const heads: ChainHead[] = chains
      .filter((c) => c.head_seq > (this.sealed.get(c.id) ?? 0))
      .map((c) => ({ chain: c.id, tenant: c.tenant_id, seq: c.head_seq, hash: c.head_hash }));
    this.everything = false;
    if (heads.length === 0) return undefined;

    const prev = await auditChainStore.latestCheckpoint(this.opts.db);
    const body: CheckpointBody = {
      v: 1,
      id: newId(),
      writer: this.opts.writerId,
      time: this.opts.clock(),
      prev: prev ? { id: prev.id, hash: prev.hash } : null,
      heads,
    };
    const text = canonicalCheckpoint(body);
    await auditChainStore.insertCheckpoint(this.opts.db, {
      id: body.id,
      writer_id: body.writer,
      time: body.time,
      body: text,
      hash: sha256(text),
      signature: await signCheckpoint(text, this.opts.key),
    });
    for (const h of heads) this.sealed.set(h.chain, h.seq);
    return body;
  }
}
