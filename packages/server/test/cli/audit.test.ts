import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExportLine } from '../../src/audit/export-format.js';
import type { OcsfEvent } from '../../src/audit/ocsf.js';
import type { AuditEventView } from '../../src/audit/routes.js';
import {
  addSecret,
  createPrincipal,
  expectStatus,
  grant,
  startAdmin,
  type Admin,
  type Page,
  type ResourceView,
} from '../admin/helpers.js';
import { credentialsDir, runCli } from './fake-server.js';

describe('signet audit (against a real server)', () => {
  let a: Admin;
  let client = { id: '', secret: '' };
  const issue = () => a.s.tokenFor('default', client.id, client.secret, 'api://cli-audit/.default');
  const cli = (argv: string[]) => runCli(argv, a.s.dataDir);

  before(async () => {
    a = await startAdmin();
    const api = expectStatus(await a.call<ResourceView>('POST', '/tenants/default/resources', { identifier: 'api://cli-audit', displayName: 'CLI audit', roles: [{ name: 'read', description: 'read' }] }), 201);
    const p = await createPrincipal(a, 'default', { kind: 'service' });
    client = { id: p.id, secret: await addSecret(a, 'default', p.id) };
    await grant(a, 'default', p.id, api.id, 'read');
    await issue();
    await issue();
  });
  after(() => a.close());

  it('audit list --json --all: every matching event, as the API lists them', async () => {
    const result = await cli(['audit', 'list', '--type', 'token.*', '--all', '--limit', '1', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as Page<AuditEventView>;
    const api = expectStatus(await a.call<Page<AuditEventView>>('GET', '/tenants/default/audit?type=token.*&limit=500'), 200);
    assert.deepEqual(listed, { items: api.items, nextCursor: null });
    assert.ok(listed.items.length >= 2);
  });

  it('audit list prints a table, and passes every filter to the API', async () => {
    const result = await cli(['audit', 'list', '--client', client.id, '--outcome', 'success', '--since', '2020-01-01T00:00:00Z', '--limit', '5']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /│ time +│ type +│ outcome +│ actor +│ subject +│ resource +│ id +│/);
    assert.match(result.stdout, /token\.issued/);
    assert.doesNotMatch(result.stdout, /principal\.created/);
  });

  it('audit list refuses a time that is not ISO 8601 before calling the server', async () => {
    const result = await cli(['audit', 'list', '--since', 'yesterday']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: usage: .*--since/);
  });

  it('audit export --output writes the NDJSON export to an owner-only file, whole', async () => {
    const file = join(a.s.dataDir, 'audit.ndjson');
    const result = await cli(['audit', 'export', '--output', file]);
    assert.equal(result.code, 0, result.stderr);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as ExportLine);
    assert.equal(result.stdout, `wrote ${lines.length} lines to ${file}\n`);
    assert.equal(lines[0]?.kind, 'export');
    assert.ok(lines.some((l) => l.kind === 'event' && l.type === 'token.issued'));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(!existsSync(`${file}.partial`));
  });

  it('audit export --format ocsf streams OCSF events to stdout', async () => {
    const result = await cli(['audit', 'export', '--format', 'ocsf', '--since', '2020-01-01T00:00:00Z']);
    assert.equal(result.code, 0, result.stderr);
    const events = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as OcsfEvent);
    assert.ok(events.length > 2);
    assert.ok(events.some((e) => e.class_uid === 3002 && e.type_uid === 300203 && e.status_id === 1));
  });

  it('audit public-key prints the JWK as JSON', async () => {
    const result = await cli(['audit', 'public-key']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), a.s.signet.auditTrail.key.publicJwk);
  });

  it('audit tail prints a line per new event and stops after --count', async () => {
    let done = false;
    const tail = cli(['audit', 'tail', '--type', 'token.issued', '--count', '2']).finally(() => (done = true));
    for (let i = 0; i < 50 && !done; i += 1) {
      await issue();
      await sleep(100);
    }
    const result = await tail;
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines) assert.match(line, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+ token\\.issued success actor=${client.id} resource=api://cli-audit id=[0-9a-f-]{36}$`));
  });

  it('audit tail --json prints each event as one JSON line', async () => {
    let done = false;
    const tail = cli(['audit', 'tail', '--client', client.id, '--count', '1', '--json']).finally(() => (done = true));
    for (let i = 0; i < 50 && !done; i += 1) {
      await issue();
      await sleep(100);
    }
    const result = await tail;
    assert.equal(result.code, 0, result.stderr);
    const event = JSON.parse(result.stdout) as AuditEventView;
    assert.equal(event.clientId, client.id);
  });
});

describe('signet audit tail and export against a stand-in server', () => {
  let server: Server;
  let url = '';
  let dir = '';
  let remove: () => Promise<void> = async () => {};
  const streams: { url: string; headers: IncomingHttpHeaders }[] = [];
  const event = (id: string, type: string) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, time: '2030-01-01T00:00:00.000Z', outcome: 'success', actorId: 'svc-1', resource: null })}\n\n`;

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/default/oauth2/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'token', token_type: 'Bearer', expires_in: 600 }));
        return;
      }
      if (req.url?.startsWith('/admin/v1/tenants/acme/audit/stream')) {
        streams.push({ url: req.url, headers: req.headers });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        // The first connection sends two events and drops; the second resumes after the last id it was told.
        if (streams.length === 1) res.end(`retry: 10\n\n: ping\n\n${event('e-1', 'token.issued')}${event('e-2', 'token.refused')}`);
        else res.write(event('e-3', 'principal.created'));
        return;
      }
      if (req.url?.startsWith('/admin/v1/tenants/acme/audit/export')) {
        // A transfer cut part-way (the server failed or shut down).
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write('{"kind":"export","version":1}\n{"kind":"event"');
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'forbidden', message: 'reading the audit trail needs the audit.reader or tenant.admin role' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    ({ dir, remove } = await credentialsDir(url));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await remove();
  });

  it('reconnects with Last-Event-ID when the stream ends: no event lost, none repeated', async () => {
    const result = await runCli(['audit', 'tail', '--tenant', 'acme', '--type', 'token.*', '--count', '3'], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      result.stdout.trimEnd().split('\n').map((l) => l.split(' ').slice(1, 2)[0]),
      ['token.issued', 'token.refused', 'principal.created'],
    );
    assert.equal(streams.length, 2);
    assert.equal(streams[0]?.headers['last-event-id'], undefined);
    assert.equal(streams[1]?.headers['last-event-id'], 'e-2');
    assert.equal(streams[1]?.url, '/admin/v1/tenants/acme/audit/stream?type=token.*');
    assert.equal(streams[1]?.headers.authorization, 'Bearer token');
  });

  it('audit export --output leaves no file when the transfer is cut', async () => {
    const file = join(dir, 'cut.ndjson');
    const result = await runCli(['audit', 'export', '--tenant', 'acme', '--output', file], dir);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: export_interrupted: the export ended early/);
    assert.ok(!existsSync(file) && !existsSync(`${file}.partial`));
  });

  it('an API error on the first connection is reported, not retried', async () => {
    const result = await runCli(['audit', 'tail', '--tenant', 'other'], dir);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'error: forbidden: reading the audit trail needs the audit.reader or tenant.admin role\n');
  });
});
