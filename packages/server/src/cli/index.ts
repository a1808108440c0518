#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { EXIT_ERROR, EXIT_OK, formatError, toCliError } from './errors.js';
import { processIo, type Io } from './output.js';
import { buildProgram } from './program.js';

export type { Io } from './output.js';

/**
 * Runs `signet` with `argv` (the arguments after the program name) and resolves to the exit code:
 * 0 on success, 1 for API and usage errors, 2 when the server cannot be reached. Errors are one
 * line on stderr, `error: <code>: <message>`.
 */
export async function run(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    // Commander has already written its usage message (or the help) through configureOutput.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_ERROR;
    const failure = toCliError(error);
    io.stderr(formatError(failure));
    return failure.exitCode;
  }
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) process.exitCode = await run(process.argv.slice(2));
