#!/usr/bin/env node
// Bundles the compiled server and CLI into one ES module (dist/bundle/signet.mjs). Loading one file
// instead of several hundred (Kysely and TypeBox alone ship hundreds of modules) more than halves
// the time from start to first token. Native and optional modules stay external.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../dist/cli/index.js', import.meta.url).pathname],
  outfile: new URL('../dist/bundle/signet.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['better-sqlite3', 'pg-native', '@node-rs/argon2'],
  // Some bundled CommonJS dependencies call require(): give the ES module one.
  banner: { js: "import { createRequire as __signetCreateRequire } from 'node:module'; const require = __signetCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
