import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FederationRefusal, refusalAsOAuthError } from '../../src/federation/verify.js';

describe('federation refusals as OAuth errors', () => {
  it('client_assertion → 401 invalid_client; subject_token (RFC 8693) → 400 invalid_grant; the check travels as the cause', () => {
    const refusal = new FederationRefusal('replay', 'the token was already used (jti replay)');
    const client = refusalAsOAuthError(refusal, 'invalid_client');
    assert.deepEqual([client.status, client.toJSON()], [401, { error: 'invalid_client', error_description: 'client authentication failed' }]);
    assert.equal(client.cause, refusal);
    assert.equal(client.detail, 'federation check "replay" failed: the token was already used (jti replay)');
    const grant = refusalAsOAuthError(refusal, 'invalid_grant');
    assert.deepEqual([grant.status, grant.toJSON()], [400, { error: 'invalid_grant', error_description: 'the subject_token is not accepted' }]);
    assert.equal(grant.cause, refusal);
  });
});
