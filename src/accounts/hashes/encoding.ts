import { timingSafeEqual } from 'node:crypto';

/** A stored hash Ferry cannot use: the message names what is wrong, for the import report. */
export class HashProblem extends Error {}

/** Constant-time equality of a computed digest and a stored one (their lengths are public). */
export function sameBytes(computed: Buffer, stored: Buffer): boolean {
  return computed.length === stored.length && stored.length > 0 && timingSafeEqual(computed, stored);
}

/** Standard or URL base64, padded or not, and passlib's "adapted" base64 (`.` for `+`). */
export function fromBase64(text: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/._-]*={0,2}$/.test(text)) throw new HashProblem(`The ${what} is not base64.`);
  return Buffer.from(text.replace(/\./g, '+').replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function fromHex(text: string, what: string): Buffer {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) throw new HashProblem(`The ${what} is not hexadecimal.`);
  return Buffer.from(text, 'hex');
}

/** The alphabet of crypt(3) and phpass. */
export const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** crypt(3)'s base64: each group of bytes (most significant first) written six bits at a time, low bits first. */
export function cryptGroups(bytes: Buffer, groups: readonly (readonly number[])[]): string {
  let out = '';
  for (const group of groups) {
    let value = 0;
    for (const index of group) value = (value << 8) | (index < 0 ? 0 : bytes[index]!);
    const chars = Math.ceil((group.filter((index) => index >= 0).length * 8) / 6);
    for (let i = 0; i < chars; i += 1, value >>>= 6) out += ITOA64[value & 0x3f];
  }
  return out;
}

/** Gives the event loop a turn inside a long hashing loop, so one sign-in never stalls the others. */
export const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A whole number read from a hash's parameters, refused outside [min, max] with a sentence naming it. */
export function bounded(raw: string | undefined, what: string, min: number, max: number): number {
  const value = raw !== undefined && /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw new HashProblem(`The ${what} is missing or not a whole number.`);
  if (value < min || value > max) throw new HashProblem(`The ${what} is ${value}; Ferry accepts ${min} to ${max} so that a sign-in stays cheap.`);
  return value;
}
