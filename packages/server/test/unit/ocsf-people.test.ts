import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditRecord } from '../../src/audit/model.js';
import { toOcsf } from '../../src/audit/ocsf.js';

function record(over: Partial<AuditRecord>): AuditRecord {
  return {
    id: '0193a0c2-0000-7000-8000-000000000001',
    tenantId: 't',
    chainId: 'c',
    seq: 1,
    prevHash: 'p',
    hash: 'h',
    time: 1_767_225_600_000,
    type: 'token.issued',
    outcome: 'success',
    actorId: null,
    actorKind: null,
    subjectId: null,
    clientId: null,
    credentialId: null,
    credentialType: null,
    resource: null,
    jti: null,
    targetType: null,
    targetId: null,
    sourceIp: null,
    userAgent: null,
    requestId: null,
    data: {},
    ...over,
  };
}

/** The OCSF classes of the people events (docs/audit.md, "OCSF mapping"). */
describe('OCSF mapping of sign-in client events', () => {
  it('refresh-token and code reuse are failed Authentication events of High severity, about the user', () => {
    for (const type of ['refresh_token.reused', 'authorization_code.reused']) {
      const e = toOcsf(record({ type, outcome: 'failure', actorId: 'client-1', clientId: 'client-1', subjectId: 'user-1', data: { familyRevoked: true } }));
      assert.deepEqual([e.class_uid, e.activity_id, e.type_uid, e.severity_id, e.severity, e.status_id], [3002, 3, 300203, 4, 'High', 2]);
      assert.deepEqual(e.user, { uid: 'user-1', type: 'Unknown', type_id: 0 });
    }
  });

  it('authorization.granted is an Authentication Ticket for the signed-in user', () => {
    const e = toOcsf(record({ type: 'authorization.granted', actorId: 'user-1', actorKind: 'user', clientId: 'client-1', subjectId: 'user-1', resource: 'api://photos' }));
    assert.deepEqual([e.class_uid, e.activity_id, e.severity_id], [3002, 3, 1]);
    assert.equal(e.user?.uid, 'user-1');
    assert.deepEqual(e.service, { name: 'api://photos' });
  });

  it('consent.granted / consent.revoked attach and detach a policy on the user\'s account', () => {
    const granted = toOcsf(record({ type: 'consent.granted', actorId: 'user-1', targetType: 'consent', targetId: 'c-1', data: { before: null, after: { userId: 'user-1', clientId: 'client-1' } } }));
    assert.deepEqual([granted.class_uid, granted.activity_id, granted.type_uid], [3001, 7, 300107]);
    assert.equal(granted.user?.uid, 'user-1');
    const revoked = toOcsf(record({ type: 'consent.revoked', actorId: 'admin-1', targetType: 'consent', targetId: 'c-1', data: { before: { userId: 'user-1' }, after: { userId: 'user-1', clientId: 'client-1', revokedTokenFamilies: [] } } }));
    assert.deepEqual([revoked.class_uid, revoked.activity_id, revoked.activity_name], [3001, 8, 'Detach Policy']);
    assert.equal(revoked.user?.uid, 'user-1');
  });

  it('oauth_client.updated is Entity Management: Update', () => {
    const e = toOcsf(record({ type: 'oauth_client.updated', actorId: 'admin-1', targetType: 'principal', targetId: 'client-1' }));
    assert.deepEqual([e.class_uid, e.activity_id], [3004, 3]);
  });
});
