import { createCipheriv, createDecipheriv, createPrivateKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';

/**
 * The node's private key on disk, never in the clear: AES-256-GCM under a key derived (HKDF-SHA256)
 * from a 32-byte local secret, with the key id as additional data so a file cannot be swapped for
 * another key's. Format: JSON `{v: 1, kid, iv, ct, tag}` (base64url), mode 0600, written atomically.
 *
 * Threat model: this protects the key file when it is copied, backed up or leaked without the
 * secret (keep the secret elsewhere: `--secret-file` on another volume, or `SIGNET_NODE_SECRET`
 * from systemd credentials or a TPM-sealed store). Anyone who can read both — root, or the node's
 * own user — can use the key; that is true of every software-held key.
 */
export class NodeKeyFile {
  private readonly key: Buffer;

  constructor(secret: Buffer) {
    if (secret.length < 32) throw new Error('the node secret must be at least 32 bytes');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'signet node key v1', 32));
  }

  write(file: string, kid: string, privateKey: KeyObject): void {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(kid));
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const ct = Buffer.concat([cipher.update(der), cipher.final()]);
    const body = { v: 1, kid, iv: iv.toString('base64url'), ct: ct.toString('base64url'), tag: cipher.getAuthTag().toString('base64url') };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(body) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
  }

  read(file: string): { kid: string; privateKey: KeyObject } {
    const body = JSON.parse(readFileSync(file, 'utf8')) as { v?: unknown; kid?: unknown; iv?: unknown; ct?: unknown; tag?: unknown };
    if (body.v !== 1 || typeof body.kid !== 'string' || typeof body.iv !== 'string' || typeof body.ct !== 'string' || typeof body.tag !== 'string') {
      throw new Error(`${file} is not a signet node key file`);
    }
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(body.iv, 'base64url'));
    decipher.setAAD(Buffer.from(body.kid));
    decipher.setAuthTag(Buffer.from(body.tag, 'base64url'));
    let der: Buffer;
    try {
      der = Buffer.concat([decipher.update(Buffer.from(body.ct, 'base64url')), decipher.final()]);
    } catch {
      throw new Error(`${file} cannot be decrypted with this node secret`);
    }
    return { kid: body.kid, privateKey: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) };
  }
}

/** Loads the local secret, creating it (32 random bytes, mode 0600) on first start; refuses a secret others can read. */
export function loadNodeSecret(file: string, fromEnv: string | undefined): Buffer {
  if (fromEnv) {
    const secret = Buffer.from(fromEnv, /^[0-9a-fA-F]{64}$/.test(fromEnv) ? 'hex' : 'base64url');
    if (secret.length !== 32) throw new Error('SIGNET_NODE_SECRET must be 32 bytes (64 hex or 43 base64url characters)');
    return secret;
  }
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64url') + '\n', { mode: 0o600, flag: 'wx' });
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 ${file}`);
  }
  chmodSync(file, 0o600);
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
  if (secret.length !== 32) throw new Error(`${file} does not hold a 32-byte secret`);
  return secret;
}
