// @ts-check
// Buffer, TextEncoder/TextDecoder, atob/btoa, over the byte codecs in bytes.js.
class Buffer extends $Uint8Array {
  /**
   * @param {any} value
   * @param {any} [encodingOrOffset]
   * @param {number} [length]
   * @returns {Buffer}
   */
  static from(value, encodingOrOffset, length) {
    if (typeof value === 'string') {
      const bytes = encodeString(value, encodingOrOffset);
      const out = new Buffer(bytes.length);
      out.set(bytes);
      return out;
    }
    if (value instanceof $ArrayBuffer)
      return new Buffer(value, encodingOrOffset || 0, length === undefined ? value.byteLength - (encodingOrOffset || 0) : length);
    if (value instanceof $Uint8Array || $isArray(value)) {
      const out = new Buffer(value.length);
      out.set(value);
      return out;
    }
    if (value && value.type === 'Buffer' && $isArray(value.data)) return Buffer.from(value.data);
    throw new $TypeError('The first argument must be a string, Buffer, ArrayBuffer or Array');
  }
  /**
   * @param {number} size
   * @param {any} [fill]
   * @param {unknown} [encoding]
   */
  static alloc(size, fill, encoding) {
    const out = new Buffer(size);
    if (fill !== undefined) out.fill(typeof fill === 'string' ? encodeString(fill, encoding)[0] || 0 : fill);
    return out;
  }
  /** @param {number} size */
  static allocUnsafe(size) {
    return new Buffer(size);
  }
  /** @param {unknown} value */
  static isBuffer(value) {
    return value instanceof Buffer;
  }
  /** @param {unknown} encoding */
  static isEncoding(encoding) {
    try {
      normaliseEncoding(encoding);
      return true;
    } catch {
      return false;
    }
  }
  /**
   * @param {string | ArrayBufferView | ArrayBuffer} value
   * @param {unknown} [encoding]
   */
  static byteLength(value, encoding) {
    return typeof value === 'string' ? encodeString(value, encoding).length : value.byteLength;
  }
  /**
   * @param {Uint8Array[]} list
   * @param {number} [total]
   */
  static concat(list, total) {
    const size = total === undefined ? list.reduce((/** @type {number} */ sum, item) => sum + item.length, 0) : total;
    const out = Buffer.alloc(size);
    let offset = 0;
    for (const item of list) {
      if (offset >= size) break;
      out.set(item.subarray(0, size - offset), offset);
      offset += item.length;
    }
    return out;
  }
  /**
   * @param {Buffer} a
   * @param {Uint8Array} b
   */
  static compare(a, b) {
    return a.compare(b);
  }
  /**
   * @param {unknown} [encoding]
   * @param {number} [start]
   * @param {number} [end]
   */
  toString(encoding, start = 0, end = this.length) {
    const view = this.subarray(start, end);
    switch (normaliseEncoding(encoding)) {
      case 'hex':
        return bytesToHex(view);
      case 'base64':
        return base64Encode(view, false);
      case 'base64url':
        return base64Encode(view, true);
      case 'latin1':
      case 'ascii': {
        let out = '';
        for (let i = 0; i < view.length; i += 1) out += $String.fromCharCode(encoding === 'ascii' ? view[i] & 127 : view[i]);
        return out;
      }
      case 'utf16le': {
        let out = '';
        for (let i = 0; i + 1 < view.length; i += 2) out += $String.fromCharCode(view[i] | (view[i + 1] << 8));
        return out;
      }
      default:
        return utf8Decode(view);
    }
  }
  toJSON() {
    return { type: 'Buffer', data: $Array.from(this) };
  }
  /** @param {Uint8Array} other */
  equals(other) {
    return this.compare(other) === 0;
  }
  /** @param {Uint8Array} other */
  compare(other) {
    const n = $Math.min(this.length, other.length);
    for (let i = 0; i < n; i += 1) if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
    return this.length === other.length ? 0 : this.length < other.length ? -1 : 1;
  }
  /**
   * @param {number} [start]
   * @param {number} [end]
   */
  slice(start, end) {
    return this.subarray(start, end);
  }
  /**
   * @param {string} text
   * @param {number} [offset]
   * @param {number | string} [length]
   * @param {unknown} [encoding]
   */
  write(text, offset = 0, length, encoding) {
    const bytes = encodeString(text, typeof length === 'string' ? length : encoding);
    const count = $Math.min(bytes.length, this.length - offset, typeof length === 'number' ? length : Infinity);
    for (let i = 0; i < count; i += 1) this[offset + i] = bytes[i];
    return count;
  }
}

class TextEncoder {
  get encoding() {
    return 'utf-8';
  }
  /** @param {unknown} [text] */
  encode(text = '') {
    return new $Uint8Array(utf8Encode($String(text)));
  }
}
class TextDecoder {
  /** @param {unknown} [label] */
  constructor(label = 'utf-8') {
    if (normaliseEncoding(label) !== 'utf8') throw new $RangeError(`The "${label}" encoding is not supported`);
  }
  get encoding() {
    return 'utf-8';
  }
  /** @param {ArrayBuffer | ArrayBufferView} [bytes] */
  decode(bytes) {
    if (bytes === undefined) return '';
    const view = bytes instanceof $ArrayBuffer ? new $Uint8Array(bytes) : new $Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return utf8Decode(view);
  }
}
/** @param {unknown} text */
function btoa(text) {
  const value = $String(text);
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) > 255) throw new $Error('Invalid character');
  return base64Encode(encodeString(value, 'latin1'), false);
}
/** @param {unknown} text */
function atob(text) {
  const bytes = base64Decode($String(text));
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) out += $String.fromCharCode(bytes[i]);
  return out;
}
