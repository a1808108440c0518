#!/usr/bin/env node
// Launcher for the `signet` command. It exists before the first build, so npm can link it at
// install time; it builds the TypeScript once if dist/ is missing, then runs the CLI.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli', 'index.js');
if (!existsSync(entry)) {
  process.stderr.write('signet: first run, building…\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
const { run } = await import(pathToFileURL(entry).href);
process.exitCode = await run(process.argv.slice(2));
