import { type AdminCaller, actorOf } from '../admin/caller.js';
import type { Deps } from '../context.js';
import { newId } from '../crypto/ids.js';
import { changeDirectory } from '../db/directory-change.js';
import { apiErrors } from '../errors.js';
import type { Tenant } from '../tenants/model.js';
import type { CreateReceiverBody, Receiver } from './model.js';
import { ssfStore } from './store.js';
import { receiverUrlProblem } from './url-guard.js';

/** Shared Signals receivers of a tenant (RFC 8935 push): registration, listing, removal. */
export class ReceiverService {
  constructor(private readonly deps: Deps) {}

  async create(caller: AdminCaller, tenant: Tenant, body: CreateReceiverBody): Promise<Receiver> {
    const problem = receiverUrlProblem(body.endpointUrl, this.deps.config.ssfAllowHttpLoopback);
    if (problem) throw apiErrors.invalid(problem);
    const id = newId();
    const receiver: Receiver = {
      id,
      tenantId: tenant.id,
      endpointUrl: body.endpointUrl,
      audience: body.audience ?? body.endpointUrl,
      // The header is a credential of the receiver: sealed at rest like signing keys.
      authorization: body.authorization === undefined ? null : this.deps.envelope.seal(body.authorization, `ssf-receiver:${id}`),
      description: body.description ?? null,
      createdAt: this.deps.clock(),
    };
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await ssfStore.insertReceiver(trx, receiver);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'ssf_receiver.added', actor: actorOf(caller), target: { type: 'ssf_receiver', id }, after: { ...receiver, authorization: receiver.authorization !== null } }]);
    });
    return receiver;
  }

  list(tenant: Tenant): Promise<Receiver[]> {
    return ssfStore.receivers(this.deps.db, tenant.id);
  }

  async get(tenant: Tenant, id: string): Promise<Receiver> {
    const receiver = await ssfStore.receiver(this.deps.db, tenant.id, id);
    if (!receiver) throw apiErrors.notFound('receiver', id);
    return receiver;
  }

  pending(tenant: Tenant, id: string): Promise<number> {
    return ssfStore.pending(this.deps.db, tenant.id, id);
  }

  async remove(caller: AdminCaller, tenant: Tenant, id: string): Promise<void> {
    const receiver = await this.get(tenant, id);
    await changeDirectory(this.deps, tenant.id, async (trx) => {
      await ssfStore.deleteReceiver(trx, tenant.id, id);
      await this.deps.audit.recordInTransaction(trx, [{ tenantId: tenant.id, type: 'ssf_receiver.removed', actor: actorOf(caller), target: { type: 'ssf_receiver', id }, before: { ...receiver, authorization: receiver.authorization !== null } }]);
    });
  }
}
