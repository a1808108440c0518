import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/** Time-ordered unique id (UUIDv7): sortable, so it doubles as a pagination cursor. */
export function newId(): string {
  return uuidv7();
}

/** 256 bits from the CSPRNG, base64url (43 characters). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export function isId(value: string): boolean {
  return UUID.test(value);
}
