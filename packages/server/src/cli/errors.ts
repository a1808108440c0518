/** Exit codes: 0 success, 1 API or usage error, 2 the server could not be reached. */
export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_CONNECTION = 2;

/**
 * Every failure the CLI reports: a stable code (the API's `code`, the OAuth `error`, or a CLI code
 * such as `usage`, `credentials_not_found`, `connection_failed`), a one-line message and an exit code.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: number = EXIT_ERROR,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError('usage', message);

/** The single line written to stderr: `error: <code>: <message>`; never a stack trace. */
export function formatError(error: CliError): string {
  const message = error.message.replace(/\s*\n\s*/g, ' ').trim();
  return `error: ${error.code}: ${message}\n`;
}

/** Maps anything thrown to a CliError; unexpected errors keep only their message. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Error) {
    if (error.name === 'ConfigError') return new CliError('invalid_config', error.message);
    return new CliError('internal', error.message || error.name);
  }
  return new CliError('internal', String(error));
}
