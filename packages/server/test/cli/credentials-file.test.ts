import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { credentialsPath, loadCredentials } from '../../src/cli/credentials-file.js';
import { CliError } from '../../src/cli/errors.js';
import { credentialsDir } from './fake-server.js';

describe('credentials file discovery', () => {
  const cwd = '/home/ops';

  it('prefers --credentials, resolved against the working directory', () => {
    assert.equal(credentialsPath('creds.json', { SIGNET_CREDENTIALS: '/a.json', SIGNET_DATA_DIR: '/data' }, cwd), '/home/ops/creds.json');
  });

  it('then SIGNET_CREDENTIALS', () => {
    assert.equal(credentialsPath(undefined, { SIGNET_CREDENTIALS: '/a.json', SIGNET_DATA_DIR: '/data' }, cwd), '/a.json');
  });

  it('then $SIGNET_DATA_DIR/admin-credentials.json', () => {
    assert.equal(credentialsPath(undefined, { SIGNET_DATA_DIR: 'data' }, cwd), '/home/ops/data/admin-credentials.json');
  });

  it('then ./.signet/admin-credentials.json', () => {
    assert.equal(credentialsPath(undefined, {}, cwd), '/home/ops/.signet/admin-credentials.json');
    assert.equal(credentialsPath('', { SIGNET_CREDENTIALS: '' }, cwd), '/home/ops/.signet/admin-credentials.json');
  });
});

describe('credentials file contents', () => {
  it('reads the file the server writes', async () => {
    const { file, remove } = await credentialsDir('http://localhost:8080');
    try {
      const credentials = await loadCredentials(file);
      assert.equal(credentials.token_endpoint, 'http://localhost:8080/default/oauth2/token');
      assert.equal(credentials.admin_api, 'http://localhost:8080/admin/v1');
      assert.equal(credentials.tenant, 'default');
    } finally {
      await remove();
    }
  });

  it('defaults scope and tenant, and lets --url stand in for admin_api', async () => {
    const { dir, remove } = await credentialsDir('http://x');
    const file = join(dir, 'minimal.json');
    await writeFile(file, JSON.stringify({ token_endpoint: 'http://x/t', client_id: 'c', client_secret: 's' }), { mode: 0o600 });
    try {
      const credentials = await loadCredentials(file, { adminApiOverride: 'http://y/admin/v1' });
      assert.equal(credentials.scope, 'urn:signet:admin/.default');
      assert.equal(credentials.tenant, 'default');
      assert.equal(credentials.admin_api, 'http://y/admin/v1');
      await assert.rejects(loadCredentials(file), new CliError('credentials_invalid', `${file}: "admin_api" must be a non-empty string`));
    } finally {
      await remove();
    }
  });

  it('refuses a file that is not JSON', async () => {
    const { dir, remove } = await credentialsDir('http://x');
    const file = join(dir, 'bad.json');
    await writeFile(file, 'client_secret=x');
    try {
      await assert.rejects(loadCredentials(file), (error: CliError) => error.code === 'credentials_invalid' && error.message === `${file} is not valid JSON`);
    } finally {
      await remove();
    }
  });

  it('warns when the file is readable by other users', { skip: process.platform === 'win32' }, async () => {
    const { file, remove } = await credentialsDir('http://x');
    const warnings: string[] = [];
    try {
      await loadCredentials(file, { warn: (m) => warnings.push(m) });
      assert.equal(warnings.length, 0);
      await chmod(file, 0o644);
      await loadCredentials(file, { warn: (m) => warnings.push(m) });
      assert.deepEqual(warnings, [`${file} is readable by other users; restrict it with: chmod 600 ${file}`]);
    } finally {
      await remove();
    }
  });
});
