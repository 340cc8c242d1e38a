import { setOwn } from '../values.ts';
import { ScriptFacingError } from './errors.ts';

/** Checks on values arriving from the isolate; each returns the value typed, or throws for the script to see. */
export function string(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ScriptFacingError(`${what} must be a string`, 'ERR_INVALID_ARG_TYPE');
  return value;
}

export function optionalString(value: unknown, what: string): string | undefined {
  return value === undefined || value === null ? undefined : string(value, what);
}

export function integer(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new ScriptFacingError(`${what} must be an integer`, 'ERR_INVALID_ARG_TYPE');
  return value;
}

export function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ScriptFacingError(`${what} must be an object`, 'ERR_INVALID_ARG_TYPE');
  return value as Record<string, unknown>;
}

export function optionalRecord(value: unknown, what: string): Record<string, unknown> {
  return value === undefined || value === null ? {} : record(value, what);
}

export function array(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new ScriptFacingError(`${what} must be an array`, 'ERR_INVALID_ARG_TYPE');
  return value;
}

/** Keeps only `keys` of `source` whose values are of an allowed primitive or plain type. */
export function pick(source: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const value = source[key];
    if (value === undefined || typeof value === 'function') continue;
    out[key] = value;
  }
  return out;
}

/** Uint8Array (as copies arrive) → Buffer, deeply, for drivers that expect Buffers. */
export function toBuffers(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (depth > 32 || value === null || typeof value !== 'object' || value instanceof Date || value instanceof RegExp || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((item) => toBuffers(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) setOwn(out, key, toBuffers(item, depth + 1));
  return out;
}

/** A query parameter for a SQL driver: a BigInt as its decimal text, byte arrays as Buffers. */
export function toDriverValue(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : toBuffers(value);
}

/** Host values → plain data the isolate can receive (class instances become plain objects). */
export function toPlain(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'function' || typeof value === 'symbol' ? undefined : value;
  if (value instanceof Date || value instanceof RegExp) return value;
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (depth > 32) return undefined;
  if (Array.isArray(value)) return value.map((item) => toPlain(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    const plain = toPlain(item, depth + 1);
    if (plain !== undefined) setOwn(out, key, plain);
  }
  return out;
}
