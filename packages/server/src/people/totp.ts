import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/**
 * TOTP (RFC 6238) with the parameters every authenticator app supports: SHA-1, 6 digits, 30 s
 * steps, 160-bit secrets. A code is accepted one step either side of now (clock drift, RFC 6238
 * §5.2) and only for a step later than the last one accepted for the factor, so a code is never
 * accepted twice.
 */
export const TOTP_PERIOD = 30;
const TOLERANCE_SECONDS = TOTP_PERIOD;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 });
}

/** The otpauth:// URI authenticator apps read (label "<issuer>:<account>"). */
export function totpUri(issuer: string, account: string, secret: string): string {
  return generateURI({ issuer, label: account, secret });
}

/** The URI as an SVG QR code in a data: URL (CSP allows images from data: only). */
export async function totpQrDataUrl(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
}

/** The time step the code belongs to, or undefined when it is not a valid code now. */
export async function totpStep(secret: string, code: string, nowMs: number): Promise<number | undefined> {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const result = await verify({ secret, token, epoch: Math.floor(nowMs / 1000), epochTolerance: TOLERANCE_SECONDS }).catch(() => undefined);
  return result?.valid && 'timeStep' in result ? result.timeStep : undefined;
}
