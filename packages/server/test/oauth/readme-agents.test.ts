import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { signAccessToken } from '../../src/oauth/access-token.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Runs the curl walk of the README section "Agents that act for people" against a real server, so
 * the documentation cannot drift. Issue 4's browser sign-in is stood in for by a tiny endpoint that
 * mints Ada's token the way the token endpoint will.
 */
describe('README: Agents that act for people', () => {
  let s: TestServer;
  let work: string;
  before(async () => {
    s = await startTestServer();
    work = mkdtempSync(join(process.cwd(), '.readme-walk-'));
  });
  after(async () => {
    rmSync(work, { recursive: true, force: true });
    await s.close();
  });

  it('the exchange chain and the DPoP exchange run as written', async () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Agents that act for people'), readme.indexOf('## Configuration'));
    const [walk, dpop] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    assert.ok(walk !== undefined && dpop !== undefined && walk.includes('USER_TOKEN=...'));
    const tenant = await s.signet.services.tenants.activeByName('default');
    assert.ok(tenant);
    const mint = createServer((req, res) => {
      void (async () => {
        const clientId = new URL(req.url ?? '/', 'http://x').searchParams.get('client_id') ?? '';
        const ada = await s.api('POST', '/tenants/default/principals', { kind: 'user', displayName: 'Ada' });
        const now = Math.floor(s.now() / 1000);
        const claims = { iss: `${s.url}/default`, sub: ada.body.id, aud: 'api://calendar', iat: now, nbf: now, exp: now + 300, jti: crypto.randomUUID(), client_id: clientId, tid: tenant.id, kind: 'user' as const, scope: 'events.read events.write' };
        res.end(signAccessToken(claims, await s.signet.deps.keys.signer(tenant.id)));
      })();
    }).listen(0, '127.0.0.1');
    await new Promise((resolve) => mint.once('listening', resolve));
    const port = (mint.address() as { port: number }).port;
    const script = `set -e
BASE=${s.url}
CREDS=${join(s.dataDir, 'admin-credentials.json')}
field() { node -p "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; }
ADMIN_ID=$(field .client_id < $CREDS); ADMIN_SECRET=$(field .client_secret < $CREDS)
ADMIN=$(curl -s -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials -d scope=urn:signet:admin/.default $BASE/default/oauth2/token | field .access_token)
api() { curl -s -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' "$@"; }
${walk.replace('USER_TOKEN=...', `USER_TOKEN=$(curl -s "http://127.0.0.1:${port}/?client_id=$A")`)}
echo; echo "A=$A B=$B"
${dpop}`;
    try {
      const { stdout } = await promisify(execFile)('bash', ['-c', script], { encoding: 'utf8', cwd: work });
      const ids = /A=(\S+) B=(\S+)/.exec(stdout);
      assert.ok(ids, stdout);
      const chain = JSON.parse(/(\{"sub":[^\n]*"act":\{[^\n]*\})\n/.exec(stdout)?.[1] ?? 'null') as Record<string, unknown>;
      assert.equal(chain.aud, 'api://rooms');
      assert.equal(chain.scope, 'events.read');
      assert.deepEqual(chain.act, { sub: ids[2], kind: 'agent', client_id: ids[2], act: { sub: ids[1], kind: 'agent', client_id: ids[1] } });
      const last = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
      assert.equal(last.token_type, 'DPoP');
      assert.equal(last.scope, 'events.read');
      assert.equal(last.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    } finally {
      mint.close();
    }
  });
});
