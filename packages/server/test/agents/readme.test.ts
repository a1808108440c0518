import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Every top-level JSON object in `text` (curl prints responses back to back). */
function jsonObjects(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)) as Record<string, unknown>);
    }
  }
  return out;
}

/** Runs the curl blocks of the README sections on blueprints, introspection and Shared Signals against a real server. */
describe('README: blueprints, introspection and revocation, Shared Signals', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.close());

  it('the curl blocks run as written and answer as documented', async () => {
    const readme = readFileSync(new URL('../../../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Agents: blueprints, sponsors, expiry'), readme.indexOf('## Agents that act for people'));
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
    assert.equal(blocks.length, 3);
    const script = `set -e
BASE=${s.url}
CREDS=${join(s.dataDir, 'admin-credentials.json')}
field() { node -p "JSON.parse(require('fs').readFileSync(0, 'utf8'))$1"; }
ADMIN_ID=$(field .client_id < $CREDS); ADMIN_SECRET=$(field .client_secret < $CREDS)
ADMIN=$(curl -s -u "$ADMIN_ID:$ADMIN_SECRET" -d grant_type=client_credentials -d scope=urn:signet:admin/.default $BASE/default/oauth2/token | field .access_token)
api() { curl -s -H "authorization: Bearer $ADMIN" -H 'content-type: application/json' "$@"; }
${blocks.map((b) => `${b}\necho`).join('\n')}`;
    const { stdout } = await promisify(execFile)('bash', ['-c', script], { encoding: 'utf8' });
    const json = jsonObjects(stdout);
    assert.ok(json.some((j) => j.code === 'exceeds_blueprint' && j.message === 'blueprint "stock-bot" does not allow role "stock.write" on "api://stock"'), stdout);
    const active = json.find((j) => j.active === true);
    assert.ok(active, stdout);
    assert.deepEqual([active.aud, active.kind, active.token_type, active.roles], ['api://stock', 'agent', 'Bearer', ['stock.read']]);
    assert.ok(json.some((j) => j.active === false && Object.keys(j).length === 1), 'the revoked token introspects inactive');
    assert.ok(json.some((j) => j.endpointUrl === 'https://rs.example/ssf/events' && j.hasAuthorization === true), stdout);
  });
});
