// @ts-check
// bytes: UTF-8, base64 and hex, for Buffer, TextEncoder and TextDecoder.
/**
 * @param {string} text
 * @returns {number[]}
 */
function utf8Encode(text) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i < text.length; i += 1) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i += 1;
      } else code = 0xfffd;
    } else if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) push(out, code);
    else if (code < 0x800) {
      push(out, 0xc0 | (code >> 6));
      push(out, 0x80 | (code & 63));
    } else if (code < 0x10000) {
      push(out, 0xe0 | (code >> 12));
      push(out, 0x80 | ((code >> 6) & 63));
      push(out, 0x80 | (code & 63));
    } else {
      push(out, 0xf0 | (code >> 18));
      push(out, 0x80 | ((code >> 12) & 63));
      push(out, 0x80 | ((code >> 6) & 63));
      push(out, 0x80 | (code & 63));
    }
  }
  return out;
}
/**
 * @param {ArrayLike<number>} bytes
 * @param {number} [start]
 * @param {number} [end]
 */
function utf8Decode(bytes, start = 0, end = bytes.length) {
  let out = '';
  /** @type {number[]} */
  let chunk = [];
  for (let i = start; i < end; ) {
    const b = bytes[i];
    let code = 0xfffd;
    let size = 1;
    if (b < 0x80) code = b;
    else if (b >= 0xc2 && b < 0xe0 && i + 1 < end && (bytes[i + 1] & 0xc0) === 0x80) {
      code = ((b & 31) << 6) | (bytes[i + 1] & 63);
      size = 2;
    } else if (b >= 0xe0 && b < 0xf0 && i + 2 < end && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80) {
      const c = ((b & 15) << 12) | ((bytes[i + 1] & 63) << 6) | (bytes[i + 2] & 63);
      if (c >= 0x800 && (c < 0xd800 || c > 0xdfff)) {
        code = c;
        size = 3;
      }
    } else if (b >= 0xf0 && b < 0xf5 && i + 3 < end && (bytes[i + 1] & 0xc0) === 0x80 && (bytes[i + 2] & 0xc0) === 0x80 && (bytes[i + 3] & 0xc0) === 0x80) {
      const c = ((b & 7) << 18) | ((bytes[i + 1] & 63) << 12) | ((bytes[i + 2] & 63) << 6) | (bytes[i + 3] & 63);
      if (c >= 0x10000 && c <= 0x10ffff) {
        code = c;
        size = 4;
      }
    }
    if (code > 0xffff) {
      code -= 0x10000;
      push(chunk, 0xd800 + (code >> 10));
      push(chunk, 0xdc00 + (code & 1023));
    } else push(chunk, code);
    if (chunk.length > 4096) {
      out += $apply($String.fromCharCode, undefined, chunk);
      chunk = [];
    }
    i += size;
  }
  return out + $apply($String.fromCharCode, undefined, chunk);
}
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/**
 * @param {ArrayLike<number>} bytes
 * @param {boolean} url
 */
function base64Encode(bytes, url) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return url ? out.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : out;
}
/**
 * @param {string} text
 * @returns {number[]}
 */
function base64Decode(text) {
  const clean = $String(text)
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .replace(/[^A-Za-z0-9+/]/g, '');
  /** @type {number[]} */
  const out = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < clean.length; i += 1) {
    value = (value << 6) | B64.indexOf(clean[i]);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      push(out, (value >> bits) & 255);
    }
  }
  return out;
}
/** @param {ArrayLike<number>} bytes */
function bytesToHex(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}
/**
 * @param {string} text
 * @returns {number[]}
 */
function hexToBytes(text) {
  /** @type {number[]} */
  const out = [];
  for (let i = 0; i + 1 < text.length; i += 2) {
    const byte = parseInt(text.slice(i, i + 2), 16);
    if ($Number.isNaN(byte)) break;
    push(out, byte);
  }
  return out;
}
/** @param {unknown} encoding */
function normaliseEncoding(encoding) {
  const name = $String(encoding || 'utf8').toLowerCase();
  if (name === 'utf8' || name === 'utf-8') return 'utf8';
  if (name === 'hex' || name === 'base64' || name === 'base64url' || name === 'ascii') return name;
  if (name === 'latin1' || name === 'binary') return 'latin1';
  if (name === 'ucs2' || name === 'ucs-2' || name === 'utf16le' || name === 'utf-16le') return 'utf16le';
  throw new $TypeError(`Unknown encoding: ${encoding}`);
}
/**
 * @param {string} text
 * @param {unknown} encoding
 * @returns {number[]}
 */
function encodeString(text, encoding) {
  switch (normaliseEncoding(encoding)) {
    case 'hex':
      return hexToBytes(text);
    case 'base64':
    case 'base64url':
      return base64Decode(text);
    case 'latin1':
    case 'ascii': {
      /** @type {number[]} */
      const out = [];
      for (let i = 0; i < text.length; i += 1) push(out, text.charCodeAt(i) & 255);
      return out;
    }
    case 'utf16le': {
      /** @type {number[]} */
      const out = [];
      for (let i = 0; i < text.length; i += 1) {
        const c = text.charCodeAt(i);
        push(out, c & 255);
        push(out, c >> 8);
      }
      return out;
    }
    default:
      return utf8Encode(text);
  }
}
