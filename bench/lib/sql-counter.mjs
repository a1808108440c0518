// Preload for the profile's query-count phase only (never in measured runs): counts the SQL
// statements Signet prepares (Kysely's SQLite driver prepares one per query) and writes the counts
// to $BENCH_SQL_COUNTS when sent SIGUSR2.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const Database = createRequire(process.env.BENCH_SIGNET_PACKAGE)('better-sqlite3');
const counts = new Map();
const prepare = Database.prototype.prepare;
Database.prototype.prepare = function countedPrepare(sql, ...rest) {
  counts.set(sql, (counts.get(sql) ?? 0) + 1);
  return prepare.call(this, sql, ...rest);
};
process.on('SIGUSR2', () => writeFileSync(process.env.BENCH_SQL_COUNTS, JSON.stringify([...counts])));
