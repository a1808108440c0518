#!/usr/bin/env node
// Launcher for the `signet` command. It exists before the first build, so npm can link it at
// install time. It runs the single-file bundle when there is one (fast start), the compiled
// modules otherwise, building them once if dist/ is missing.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'bundle', 'signet.mjs');
const modules = join(root, 'dist', 'cli', 'index.js');
if (!existsSync(bundle) && !existsSync(modules)) {
  process.stderr.write('signet: first run, building…\n');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
}
const { run } = await import(pathToFileURL(existsSync(bundle) ? bundle : modules).href);
process.exitCode = await run(process.argv.slice(2));
