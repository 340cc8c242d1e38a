/** The runtime's mark on values that are not plain data, e.g. `{ __ferryType: 'ObjectId', hex }`. */
export const TAG = '__ferryType';

/**
 * Copies a value that came out of the isolate into host data: byte arrays become Buffers, keys are
 * copied as own data properties, and a tagged ObjectId becomes whatever `objectId` makes of its hex
 * (undefined: the tag object is copied as it is).
 */
export function copyFromIsolate(value: unknown, objectId: (hex: string) => unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (value instanceof Date || value instanceof RegExp) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map((item) => copyFromIsolate(item, objectId, depth + 1));
  const object = value as Record<string, unknown>;
  if (object[TAG] === 'ObjectId' && typeof object.hex === 'string') {
    const id = objectId(object.hex);
    if (id !== undefined) return id;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(object)) setOwn(out, key, copyFromIsolate(item, objectId, depth + 1));
  return out;
}

/**
 * A script's final value, as it arrives on the host: ObjectIds (tagged by the runtime) become
 * their hex strings and byte arrays become Buffers. Everything else is already plain data.
 */
export function fromIsolateValue(value: unknown): unknown {
  return copyFromIsolate(value, (hex) => hex);
}

/**
 * Copies one key as an own data property. A key named "__proto__" (which JSON.parse and the
 * isolate's copies produce as data) would, if assigned, set the copy's prototype to an object
 * the script chose; defined, it stays data for the caller to keep or refuse.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
