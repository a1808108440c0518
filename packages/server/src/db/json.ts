/** Parses a JSON column written by this code; a corrupt value is a server fault, never client input. */
export function parseJson<T>(text: string, column: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new Error(`corrupt JSON in column ${column}`, { cause });
  }
}

export function isoTime(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
