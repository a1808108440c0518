import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { SignJWT } from 'jose';
import type { Deps } from '../context.js';
import type { Receiver, StopSignal } from './model.js';
import { type OutboxEntry, outboxStore, ssfStore } from './store.js';
import { guardedLookup } from './url-guard.js';

/** RFC 8417 §2.3: the SET media type, used as the JWT `typ`. */
export const SET_TYP = 'secevent+jwt';
const ATTEMPT_TIMEOUT_MS = 10_000;
/** Attempts before a signal is given up (the last retry waits the 1 h cap; about a day in all). */
export const MAX_ATTEMPTS = 30;

/** Exponential backoff with jitter: 1 s, 2 s, 4 s … capped at one hour. */
export function backoffMs(attempts: number): number {
  const base = Math.min(3_600_000, 1000 * 2 ** Math.max(0, attempts - 1));
  return base + Math.floor(Math.random() * base * 0.2);
}

/** Signs a Security Event Token (RFC 8417) with the tenant's active key, through jose. */
export async function signSet(deps: Pick<Deps, 'keys'>, entry: OutboxEntry, receiver: Receiver, now: number): Promise<string> {
  const signer = await deps.keys.signer(entry.tenantId);
  const signal: StopSignal = entry.signal;
  return new SignJWT({ sub_id: signal.subject, events: { [signal.type]: { subject: signal.subject, ...signal.event } } })
    .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: SET_TYP })
    .setIssuer(signal.subject.iss)
    .setAudience(receiver.audience)
    .setIssuedAt(Math.floor(now / 1000))
    .setJti(entry.id)
    .sign(signer.key);
}

/** RFC 8935 §2: POST the SET; 202 Accepted means delivered. Never follows redirects. */
function push(url: string, set: string, authorization: string | null, allowLoopback: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: 'POST',
        lookup: guardedLookup(allowLoopback),
        timeout: ATTEMPT_TIMEOUT_MS,
        headers: { 'content-type': 'application/secevent+jwt', accept: 'application/json', 'content-length': Buffer.byteLength(set), ...(authorization ? { authorization } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(set);
  });
}

/**
 * The delivery worker: every `intervalMs`, claims due outbox entries (a conditional update, so
 * several nodes never push the same entry at once), signs each SET, pushes it, and records 202 as
 * delivered or schedules a retry with backoff. Entries are committed with the change they signal,
 * so a restart resumes where delivery stopped.
 */
export function startDelivery(deps: Deps, intervalMs = 500): { stop(): Promise<void>; runOnce(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const runOnce = async () => {
    const now = deps.clock();
    for (const entry of await outboxStore.due(deps.db, now, MAX_ATTEMPTS, 50)) {
      if (!(await outboxStore.claim(deps.db, entry, now + ATTEMPT_TIMEOUT_MS * 3))) continue;
      const attempts = entry.attempts + 1;
      const receiver = await ssfStore.receiver(deps.db, entry.tenantId, entry.receiverId);
      if (!receiver) continue;
      try {
        const set = await signSet(deps, entry, receiver, now);
        const authorization = receiver.authorization === null ? null : deps.envelope.open(receiver.authorization, `ssf-receiver:${receiver.id}`).toString('utf8');
        const status = await push(receiver.endpointUrl, set, authorization, deps.config.ssfAllowHttpLoopback);
        if (status === 202) await outboxStore.delivered(deps.db, entry.id, attempts, deps.clock());
        else await outboxStore.failed(deps.db, entry.id, attempts, deps.clock() + backoffMs(attempts), `receiver answered ${status}`);
      } catch (error) {
        await outboxStore.failed(deps.db, entry.id, attempts, deps.clock() + backoffMs(attempts), error instanceof Error ? error.message : String(error));
      }
    }
  };
  const timer = setInterval(() => {
    running = running.then(runOnce).catch((error: unknown) => deps.log.warn({ err: error }, 'shared signals delivery failed'));
  }, intervalMs);
  timer.unref();
  return {
    runOnce: () => (running = running.then(runOnce)),
    async stop() {
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}
