import { existsSync } from 'node:fs';
import type { Command, CommanderError } from 'commander';
import type { VerifyReport, Finding } from '../audit/verify.js';
import { CliError } from './errors.js';
import type { Io } from './output.js';

/** Exit codes of `signet audit verify`: 0 the trail verifies, 1 it does not, 2 it could not be checked. */
export const VERIFY_OK = 0;
export const VERIFY_FAILED = 1;
export const VERIFY_ERROR = 2;

interface VerifyFlags {
  database?: boolean;
  tenant?: string;
  file?: string;
  publicKey?: string;
  retentionDays?: string;
}

const usage = (message: string) => new CliError('usage', message, VERIFY_ERROR);

/** `signet audit verify`: checks the trail in the database, or an NDJSON export offline. */
export function registerAuditVerify(audit: Command, io: Io): void {
  audit
    .command('verify')
    .description('Verify the audit trail: hash chains, signed checkpoints and retention (exit 0 ok, 1 tampered, 2 error)')
    .option('--database', 'verify the database named by the SIGNET_* environment (the default)')
    .option('--tenant <tenant>', 'with --database: only this tenant (id or name)')
    .option('--file <export>', 'verify an NDJSON export (signet audit export) offline')
    .option('--public-key <file>', 'with --file: the audit public key to trust (JWK or JWK set)')
    .option('--retention-days <days>', "with --file: the tenant's audit retention, so that a sealed, old enough prefix may be gone")
    // Usage errors exit 2 like any other failure to check; run() prints them once.
    .configureOutput({ outputError: () => undefined })
    .exitOverride((error: CommanderError) => {
      if (error.exitCode === 0) throw error;
      throw usage(error.message.replace(/^error: /, ''));
    })
    .action(async (flags: VerifyFlags, command: Command) => {
      const json = command.optsWithGlobals<{ json?: boolean }>().json === true;
      const report = await check(flags, io).catch((error: unknown) => {
        if (error instanceof CliError) throw error;
        const code = error instanceof Error && error.name === 'ConfigError' ? 'invalid_config' : 'verify_error';
        throw new CliError(code, error instanceof Error ? error.message : String(error), VERIFY_ERROR);
      });
      io.stdout(json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
      if (!report.ok) {
        const failing = Object.entries(report.counts).filter(([kind]) => kind !== 'unsealed').reduce((n, [, count]) => n + (count ?? 0), 0);
        throw new CliError('audit_verification_failed', `the audit trail does not verify: ${failing} finding(s)`, VERIFY_FAILED);
      }
    });
}

async function check(flags: VerifyFlags, io: Io): Promise<VerifyReport> {
  if (flags.file !== undefined) {
    if (flags.database) throw usage('--file and --database exclude each other');
    if (flags.tenant !== undefined) throw usage('--tenant applies to --database; an export holds one tenant');
    if (flags.publicKey === undefined) throw usage('--file needs --public-key <file>: the audit public key to trust (never the keys the export carries)');
    let retentionDays: number | undefined;
    if (flags.retentionDays !== undefined) {
      retentionDays = Number(flags.retentionDays);
      if (!/^\d+$/.test(flags.retentionDays) || retentionDays < 1 || retentionDays > 3650) throw usage('--retention-days must be an integer from 1 to 3650');
    }
    const { readPublicKeys, verifyExportFile } = await import('../audit/verify-source.js');
    return verifyExportFile(flags.file, { publicKeys: await readPublicKeys(flags.publicKey), retentionDays });
  }
  if (flags.publicKey !== undefined || flags.retentionDays !== undefined) {
    throw usage('--public-key and --retention-days apply to --file; the database holds its keys and tenant settings');
  }
  // Loaded on demand: commands that talk to the admin API never load the database drivers.
  const [{ loadConfig }, { connect }, { verifyDatabase }] = await Promise.all([import('../config.js'), import('../db/connect.js'), import('../audit/verify-source.js')]);
  // Verifying needs the audit public key only (in audit_keys), never the master key: a placeholder
  // keeps loadConfig from requiring one (PostgreSQL) or generating one (SQLite).
  const config = loadConfig({ ...io.env, SIGNET_MASTER_KEY: '0'.repeat(64) }, { warn: () => undefined });
  if (config.database.kind === 'sqlite' && !existsSync(config.database.file)) {
    throw new CliError('database_not_found', `no database at ${config.database.file} (set SIGNET_DATA_DIR or SIGNET_DATABASE_URL)`, VERIFY_ERROR);
  }
  const connection = await connect(config.database);
  try {
    return await verifyDatabase(connection.db, { tenant: flags.tenant, now: Date.now() });
  } finally {
    await connection.close();
  }
}

function where(f: Finding): string {
  const parts: string[] = [];
  if (f.chain !== undefined) parts.push(`chain ${f.chain}`);
  if (f.seq !== undefined) parts.push(f.toSeq !== undefined && f.toSeq !== f.seq ? `seq ${f.seq}-${f.toSeq}` : `seq ${f.seq}`);
  if (f.id !== undefined) parts.push(f.kind.startsWith('checkpoint') ? `checkpoint ${f.id}` : `event ${f.id}`);
  return parts.join(' ');
}

/** One line per finding, then a summary line. */
export function renderReport(report: VerifyReport): string {
  const lines = report.findings.map((f) => `${f.kind.padEnd(18)} ${where(f)}: ${f.detail}`);
  if (report.truncated) lines.push(`… ${Object.values(report.counts).reduce((n, c) => n + (c ?? 0), 0) - report.findings.length} more finding(s) not listed`);
  const s = report.stats;
  const scope = `${s.chains} chain(s), ${s.events} event(s), ${s.checkpoints} checkpoint(s) (${s.validCheckpoints} valid)`;
  const unsealed = s.unsealedEvents > 0 ? `; ${s.unsealedEvents} event(s) not yet sealed` : '';
  if (report.ok) {
    lines.push(`OK: ${scope}${unsealed}`);
  } else {
    const failing = Object.entries(report.counts)
      .filter(([kind]) => kind !== 'unsealed')
      .map(([kind, n]) => `${n} ${kind}`)
      .join(', ');
    lines.push(`FAILED: ${failing}; ${scope}${unsealed}`);
  }
  return lines.join('\n') + '\n';
}
