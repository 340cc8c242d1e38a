// @ts-check
// ObjectId: MongoDB's id type, shared by the mongodb shim and the boundary encoding.
let objectIdCounter = $Math.floor($Math.random() * 0xffffff);
const objectIdRandom = bytesToHex([0, 0, 0, 0, 0].map(() => $Math.floor($Math.random() * 256)));
class ObjectId {
  /** @type {string} Declared for the checker; the constructor makes it read-only and non-enumerable, as before it was declared. */
  __id;
  /** @param {unknown} [value] a 24-digit hex string or an ObjectId; none makes a new one */
  constructor(value) {
    let hex;
    if (value === undefined || value === null) {
      objectIdCounter = (objectIdCounter + 1) % 0xffffff;
      hex =
        $Math
          .floor($Date.now() / 1000)
          .toString(16)
          .padStart(8, '0') +
        objectIdRandom +
        objectIdCounter.toString(16).padStart(6, '0');
    } else if (value instanceof ObjectId) hex = value.toHexString();
    else if (typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value)) hex = value.toLowerCase();
    else throw new $TypeError('input must be a 24 character hex string, 12 byte Uint8Array, or an integer');
    $defineProperty(this, '__id', /** @type {PropertyDescriptor} */ ({ __proto__: null, value: hex, writable: false, enumerable: false, configurable: false }));
  }
  /** @param {unknown} value */
  static isValid(value) {
    return value instanceof ObjectId || (typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value));
  }
  /** @param {string} hex */
  static createFromHexString(hex) {
    return new ObjectId(hex);
  }
  toHexString() {
    return this.__id;
  }
  toString() {
    return this.__id;
  }
  toJSON() {
    return this.__id;
  }
  /** @param {unknown} other */
  equals(other) {
    return other != null && $String(other instanceof ObjectId ? other.toHexString() : other).toLowerCase() === this.__id;
  }
  getTimestamp() {
    return new $Date(parseInt(this.__id.slice(0, 8), 16) * 1000);
  }
  get id() {
    return Buffer.from(this.__id, 'hex');
  }
}
