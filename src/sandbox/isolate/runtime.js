// Runs first in every fresh context, as the body of `ferryRuntime(host)`: `host` is a reference to
// the host's dispatcher, passed as an argument so that it is never on the global object and lives
// only in this closure. The function returns `setup` (see below) to the host.
const global = globalThis;
/** Set by the host through `setup` before each execution. */
let limits = { maxBridgeOps: 16, maxTimers: 64, consoleBytes: 65536, resultBytes: 1048576 };

// Intrinsics captured before any script code can replace them.
const {
  Object: $Object,
  Array: $Array,
  Promise: $Promise,
  Error: $Error,
  TypeError: $TypeError,
  RangeError: $RangeError,
  JSON: $JSON,
  Reflect: $Reflect,
  Uint8Array: $Uint8Array,
  Date: $Date,
  RegExp: $RegExp,
  Map: $Map,
  String: $String,
  Number: $Number,
  Symbol: $Symbol,
  Math: $Math,
  BigInt: $BigInt,
  ArrayBuffer: $ArrayBuffer,
} = global;
const $apply = $Reflect.apply;
const $freeze = $Object.freeze;
const $keys = $Object.keys;
const $defineProperty = $Object.defineProperty;
const $getPrototypeOf = $Object.getPrototypeOf;
const $setPrototypeOf = $Object.setPrototypeOf;
const $isArray = $Array.isArray;
const $hasOwn = $Object.prototype.hasOwnProperty;
const $then = $Promise.prototype.then;
const $push = $Array.prototype.push;
const $join = $Array.prototype.join;
const $slice = $String.prototype.slice;
const $now = $Date.now;
const RESOLVED = $Promise.resolve();
const $eval = global.eval;
const hasOwn = (object, key) => $apply($hasOwn, object, [key]);
const push = (array, value) => $apply($push, array, [value]);
const hostApply = host.apply;
const hostApplySync = host.applySync;
const hostApplyIgnored = host.applyIgnored;
const hostApplySyncPromise = host.applySyncPromise;

// Script code gets no shared memory, no WebAssembly and no blocking waits: nothing that could
// outlive or sidestep the host's deadline.
delete global.SharedArrayBuffer;
delete global.WebAssembly;
if (global.Atomics) {
  delete global.Atomics.wait;
  delete global.Atomics.waitAsync;
}
// Nor V8's gc(), which every context has when Node runs with --expose-gc (in NODE_OPTIONS, say).
// V8 makes it non-configurable: it cannot be deleted, only overwritten for good.
if (hasOwn(global, 'gc')) $defineProperty(global, 'gc', { value: undefined, writable: false });

// V8's JSON.parse keeps a handle per level of nesting outside the heap, where the memory limit
// does not see it, and cannot be interrupted: '['.repeat(2e7) took the host ~1.8 GB and outlived
// the deadline. Nesting deeper than any real document is refused before parsing.
const MAX_JSON_DEPTH = 5000;
const $parse = $JSON.parse;
function jsonTooDeep(text) {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i += 1; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) {
      depth += 1;
      if (depth > MAX_JSON_DEPTH) return true;
    } else if (c === 93 || c === 125) depth -= 1;
  }
  return false;
}
$defineProperty($JSON, 'parse', {
  __proto__: null,
  value: function parse(text, reviver) {
    const source = $String(text);
    // A text shorter than twice the limit cannot nest deeper than it: no scan for everyday sizes.
    if (source.length > 2 * MAX_JSON_DEPTH && jsonTooDeep(source)) throw new $RangeError(`JSON nesting deeper than ${MAX_JSON_DEPTH} levels`);
    return $apply($parse, $JSON, [source, reviver]);
  },
  writable: true,
  configurable: true,
});

const COPY = $freeze({ __proto__: null, copy: true });
const ASYNC = $freeze({ __proto__: null, arguments: COPY, result: $freeze({ __proto__: null, promise: true, copy: true }) });
const SYNC = $freeze({ __proto__: null, arguments: COPY, result: COPY });
const IGNORED = $freeze({ __proto__: null, arguments: COPY });
const SYNC_PROMISE = $freeze({ __proto__: null, arguments: COPY });

function makeError(error) {
  const Kind = error && error.name === 'TypeError' ? $TypeError : error && error.name === 'RangeError' ? $RangeError : $Error;
  const made = new Kind(error && typeof error.message === 'string' ? error.message : 'Unknown error');
  if (error && error.code !== undefined) made.code = error.code;
  if (error && error.errno !== undefined) made.errno = error.errno;
  if (error && error.sqlState !== undefined) made.sqlState = error.sqlState;
  if (error && error.number !== undefined) made.number = error.number;
  return made;
}

let inflight = 0;
function settle(result) {
  if (result && result.ok === true) return decode(result.value);
  throw makeError(result?.error);
}

/**
 * An asynchronous host operation. At most `limits.maxBridgeOps` run at once per execution
 * (timers are limited by `limits.maxTimers` instead, so they pass `counted = false`).
 */
async function call(op, args, counted = true) {
  if (counted && inflight >= limits.maxBridgeOps) {
    throw new $Error(`Too many operations in progress at once (the limit is ${limits.maxBridgeOps}); await them before starting more.`);
  }
  const encoded = encode(args, limits.resultBytes, callWhat(op));
  if (counted) inflight += 1;
  let pending;
  try {
    pending = $apply(hostApply, host, [undefined, ['async', op, encoded], ASYNC]);
  } catch (error) {
    if (counted) inflight -= 1;
    throw makeError({ message: `Values of this type cannot be passed to ${op}: ${error?.message}` });
  }
  let result;
  try {
    result = await pending;
  } catch {
    throw hostFailure(op);
  } finally {
    if (counted) inflight -= 1;
  }
  return settle(result);
}

/**
 * The host answers every call with `{ ok, value | error }` and never throws. When a call throws
 * anyway, isolated-vm could not copy the answer or the arguments, and its error may quote host
 * values and carry the host's stack: the script gets a plain error instead.
 */
function hostFailure(op) {
  return makeError({ message: `The host could not answer ${op}, or could not take its arguments.` });
}

/** A synchronous host operation (URL parsing and the like). */
function callSync(op, args, budget = limits.resultBytes) {
  const encoded = encode(args, budget, callWhat(op));
  let result;
  try {
    result = $apply(hostApplySync, host, [undefined, ['sync', op, encoded], SYNC]);
  } catch {
    throw hostFailure(op);
  }
  return settle(result);
}

/** A host operation that is asynchronous on the host but blocks this script (bcrypt's *Sync). */
function callBlocking(op, args) {
  const encoded = encode(args, limits.resultBytes, callWhat(op));
  let result;
  try {
    result = $apply(hostApplySyncPromise, host, [undefined, ['blocking', op, encoded], SYNC_PROMISE]);
  } catch {
    throw hostFailure(op);
  }
  return settle(result);
}

/** Notifications carry console lines and failure messages, already cut to their own limits. */
function notify(op, args) {
  $apply(hostApplyIgnored, host, [undefined, ['ignored', op, encode(args, Infinity, callWhat(op))], IGNORED]);
}

// ObjectId crosses the boundary as a tagged plain object; Uint8Array coming back becomes Buffer.
const TAG = '__ferryType';
/** A key named "__proto__" is copied as data: assigning it would set the copy's prototype instead. */
function setOwn(target, key, value) {
  if (key === '__proto__') $defineProperty(target, key, { __proto__: null, value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}
// encode(): see boundary.js, which measures what it encodes.
function decode(value, depth = 0) {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (value instanceof $Uint8Array) return $setPrototypeOf(value, Buffer.prototype);
  if (value instanceof $Date || value instanceof $RegExp) return value;
  if (hasOwn(value, TAG) && value[TAG] === 'ObjectId') return new ObjectId(value.hex);
  if ($isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = decode(value[i], depth + 1);
    return value;
  }
  const names = $keys(value);
  for (let i = 0; i < names.length; i += 1) value[names[i]] = decode(value[names[i]], depth + 1);
  return value;
}

/**
 * Node-style optional trailing callback on a promise-returning function; the callback runs once.
 * With `spread`, a resolved [a, b] is passed as callback(null, a, b) (mysql's results, fields).
 */
function withCallback(promise, callback, spread = false) {
  if (typeof callback !== 'function') return promise;
  let called = false;
  const once = (error, value, extra) => {
    if (called) return;
    called = true;
    runCallback(callback, error, value, extra);
  };
  $apply($then, promise, [(value) => (spread ? once(null, value[0], value[1]) : once(null, value)), (error) => once(error)]);
  return undefined;
}
function runCallback(callback, error, value, extra) {
  try {
    if (extra === undefined) callback(error, value);
    else callback(error, value, extra);
  } catch (thrown) {
    uncaught(thrown);
  }
}

/**
 * An exception nobody can catch (thrown in a timer or a callback) ends the execution, as in Node.
 * Only the first is reported: the host keeps only the first, and a loop of throwing microtasks
 * must not become a flood of host calls.
 */
let uncaughtReported = false;
/** The host keeps 2,000 characters of a failure message (capMessage): copying more only costs time. */
const MAX_FAILURE_MESSAGE = 4096;
function uncaught(error) {
  if (uncaughtReported) return;
  uncaughtReported = true;
  const message = error && typeof error.message === 'string' ? error.message : $String(error);
  const stack = error && typeof error.stack === 'string' ? error.stack : undefined;
  notify('uncaught', [clip(message, MAX_FAILURE_MESSAGE), stack === undefined ? undefined : clip(stack, 2 * MAX_FAILURE_MESSAGE)]);
}

// ---------------------------------------------------------------------------------------------
// console
let consoleUsed = 0;
let consoleClosed = false;
function format(value, depth, seen) {
  if (typeof value === 'string') {
    // Never more than a line may hold: stringifying or joining a huge string copies all of it.
    const kept = clip(value, limits.consoleBytes);
    return depth === 0 ? kept : $JSON.stringify(kept);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (typeof value === 'function') return `[Function: ${value.name || 'anonymous'}]`;
  if (value === null || typeof value !== 'object') return $String(value);
  if (value instanceof $Error) return clip($String(value.stack || `${value.name}: ${value.message}`), limits.consoleBytes);
  if (value instanceof $Date) return value.toISOString();
  if (value instanceof ObjectId) return `ObjectId('${value.toHexString()}')`;
  if (value instanceof $Uint8Array)
    return `<Buffer ${bytesToHex(value.length > 50 ? value.subarray(0, 50) : value).replace(/(..)(?!$)/g, '$1 ')}${value.length > 50 ? ' ...' : ''}>`;
  if (seen.indexOf(value) !== -1) return '[Circular]';
  if (depth > 3) return $isArray(value) ? '[Array]' : '[Object]';
  seen = seen.concat([value]);
  if ($isArray(value)) {
    const parts = [];
    for (let i = 0; i < value.length && i < 100; i += 1) push(parts, format(value[i], depth + 1, seen));
    if (value.length > 100) push(parts, `... ${value.length - 100} more items`);
    return `[ ${$apply($join, parts, [', '])} ]`;
  }
  const names = $keys(value);
  const parts = [];
  for (let i = 0; i < names.length && i < 100; i += 1) push(parts, `${names[i]}: ${format(value[names[i]], depth + 1, seen)}`);
  return parts.length ? `{ ${$apply($join, parts, [', '])} }` : '{}';
}
function writeConsole(level, args) {
  if (consoleClosed) return;
  const parts = [];
  for (let i = 0; i < args.length; i += 1) push(parts, format(args[i], 0, []));
  let text = $apply($join, parts, [' ']);
  // A line costs its length plus its newline, so that a flood of empty lines runs out too.
  const consoleLimit = limits.consoleBytes;
  if (consoleUsed + text.length + 1 > consoleLimit) {
    text = `${clip(text, $Math.max(0, consoleLimit - consoleUsed - 1))}\n[console output truncated at ${consoleLimit} bytes]`;
    consoleClosed = true;
  }
  consoleUsed += text.length + 1;
  queueLine(level, text);
}

/**
 * Lines reach the host in batches: the first line of a turn at once (so a script that then hangs
 * still shows it), the rest at the end of the turn or every CONSOLE_BATCH lines. A loop printing
 * lines is then a few hundred host calls, not one per line.
 */
const CONSOLE_BATCH = 100;
let consoleBatch = [];
let flushScheduled = false;
function sendLines() {
  if (consoleBatch.length === 0) return;
  const lines = consoleBatch;
  consoleBatch = [];
  notify('console', [lines]);
}
function queueLine(level, text) {
  push(consoleBatch, [level, text, $apply($now, $Date, [])]);
  if (!flushScheduled) {
    flushScheduled = true;
    sendLines();
    $apply($then, RESOLVED, [
      () => {
        flushScheduled = false;
        sendLines();
      },
    ]);
  } else if (consoleBatch.length >= CONSOLE_BATCH) sendLines();
}
const console = $freeze({
  log: (...args) => writeConsole('log', args),
  info: (...args) => writeConsole('info', args),
  debug: (...args) => writeConsole('debug', args),
  warn: (...args) => writeConsole('warn', args),
  error: (...args) => writeConsole('error', args),
  trace: (...args) => writeConsole('trace', args),
  dir: (value) => writeConsole('log', [value]),
  table: (value) => writeConsole('log', [value]),
});

// ---------------------------------------------------------------------------------------------
// timers: each one is a host sleep; all are cancelled when the execution ends. `sleeping` counts
// the host sleeps not yet settled here, and it (not the number of live timers) is what the limit
// bounds: a cleared timer's sleep is cancelled on the host, but its slot only comes back once that
// settles here, so a loop that never yields cannot pile up sleeps on the host.
let nextTimer = 1;
let sleeping = 0;
const timers = new $Map();
const timerGet = $Map.prototype.get;
const timerSet = $Map.prototype.set;
const timerDelete = $Map.prototype.delete;
function startTimer(fn, ms, args, repeat) {
  if (typeof fn !== 'function') throw new $TypeError('The "callback" argument must be of type function');
  if (sleeping >= limits.maxTimers) throw new $Error(`Too many timers (the limit is ${limits.maxTimers}).`);
  const id = nextTimer;
  nextTimer += 1;
  const delay = $Math.max(0, $Math.min($Number(ms) || 0, 2 ** 31 - 1));
  $apply(timerSet, timers, [id, true]);
  const tick = () => {
    sleeping += 1;
    $apply($then, call('timer.sleep', [id, delay], false), [
      () => {
        sleeping -= 1;
        if (!$apply(timerGet, timers, [id])) return;
        if (!repeat) $apply(timerDelete, timers, [id]);
        try {
          $apply(fn, undefined, args);
        } catch (error) {
          uncaught(error);
        }
        if (repeat && $apply(timerGet, timers, [id])) tick();
      },
      () => {
        sleeping -= 1;
        $apply(timerDelete, timers, [id]);
      },
    ]);
  };
  tick();
  return new Timeout(id);
}
class Timeout {
  constructor(id) {
    $defineProperty(this, 'id', { value: id });
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return true;
  }
  [$Symbol.toPrimitive]() {
    return this.id;
  }
}
function clearTimer(timer) {
  const id = timer instanceof Timeout ? timer.id : $Number(timer);
  if ($apply(timerDelete, timers, [id])) notify('timer.cancel', [id]);
}

// ---------------------------------------------------------------------------------------------
// bytes: UTF-8, base64 and hex, for Buffer, TextEncoder and TextDecoder.
function utf8Encode(text) {
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
function utf8Decode(bytes, start = 0, end = bytes.length) {
  let out = '';
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
function base64Encode(bytes, url) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] + (i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? B64[n & 63] : '=');
  }
  return url ? out.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '') : out;
}
function base64Decode(text) {
  const clean = $String(text)
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .replace(/[^A-Za-z0-9+/]/g, '');
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
function bytesToHex(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) out += (bytes[i] < 16 ? '0' : '') + bytes[i].toString(16);
  return out;
}
function hexToBytes(text) {
  const out = [];
  for (let i = 0; i + 1 < text.length; i += 2) {
    const byte = parseInt(text.slice(i, i + 2), 16);
    if ($Number.isNaN(byte)) break;
    push(out, byte);
  }
  return out;
}
function normaliseEncoding(encoding) {
  const name = $String(encoding || 'utf8').toLowerCase();
  if (name === 'utf8' || name === 'utf-8') return 'utf8';
  if (name === 'hex' || name === 'base64' || name === 'base64url' || name === 'ascii') return name;
  if (name === 'latin1' || name === 'binary') return 'latin1';
  if (name === 'ucs2' || name === 'ucs-2' || name === 'utf16le' || name === 'utf-16le') return 'utf16le';
  throw new $TypeError(`Unknown encoding: ${encoding}`);
}
function encodeString(text, encoding) {
  switch (normaliseEncoding(encoding)) {
    case 'hex':
      return hexToBytes(text);
    case 'base64':
    case 'base64url':
      return base64Decode(text);
    case 'latin1':
    case 'ascii': {
      const out = [];
      for (let i = 0; i < text.length; i += 1) push(out, text.charCodeAt(i) & 255);
      return out;
    }
    case 'utf16le': {
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

class Buffer extends $Uint8Array {
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
  static alloc(size, fill, encoding) {
    const out = new Buffer(size);
    if (fill !== undefined) out.fill(typeof fill === 'string' ? encodeString(fill, encoding)[0] || 0 : fill);
    return out;
  }
  static allocUnsafe(size) {
    return new Buffer(size);
  }
  static isBuffer(value) {
    return value instanceof Buffer;
  }
  static isEncoding(encoding) {
    try {
      normaliseEncoding(encoding);
      return true;
    } catch {
      return false;
    }
  }
  static byteLength(value, encoding) {
    return typeof value === 'string' ? encodeString(value, encoding).length : value.byteLength;
  }
  static concat(list, total) {
    const size = total === undefined ? list.reduce((sum, item) => sum + item.length, 0) : total;
    const out = Buffer.alloc(size);
    let offset = 0;
    for (const item of list) {
      if (offset >= size) break;
      out.set(item.subarray(0, size - offset), offset);
      offset += item.length;
    }
    return out;
  }
  static compare(a, b) {
    return a.compare(b);
  }
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
  equals(other) {
    return this.compare(other) === 0;
  }
  compare(other) {
    const n = $Math.min(this.length, other.length);
    for (let i = 0; i < n; i += 1) if (this[i] !== other[i]) return this[i] < other[i] ? -1 : 1;
    return this.length === other.length ? 0 : this.length < other.length ? -1 : 1;
  }
  slice(start, end) {
    return this.subarray(start, end);
  }
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
  encode(text = '') {
    return new $Uint8Array(utf8Encode($String(text)));
  }
}
class TextDecoder {
  constructor(label = 'utf-8') {
    if (normaliseEncoding(label) !== 'utf8') throw new $RangeError(`The "${label}" encoding is not supported`);
  }
  get encoding() {
    return 'utf-8';
  }
  decode(bytes) {
    if (bytes === undefined) return '';
    const view = bytes instanceof $ArrayBuffer ? new $Uint8Array(bytes) : new $Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return utf8Decode(view);
  }
}
function btoa(text) {
  const value = $String(text);
  for (let i = 0; i < value.length; i += 1) if (value.charCodeAt(i) > 255) throw new $Error('Invalid character');
  return base64Encode(encodeString(value, 'latin1'), false);
}
function atob(text) {
  const bytes = base64Decode($String(text));
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) out += $String.fromCharCode(bytes[i]);
  return out;
}

// ---------------------------------------------------------------------------------------------
// URL: parsed by the host's WHATWG parser, so it behaves exactly like Node's.
const URL_PARTS = ['href', 'origin', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
const urlState = new WeakMap();
class URLSearchParams {
  constructor(init = '') {
    urlState.set(this, { list: [], url: undefined });
    if (typeof init === 'string') this._parse(init);
    else if (init && typeof init[$Symbol.iterator] === 'function') for (const [key, value] of init) this.append(key, value);
    else if (init && typeof init === 'object') for (const key of $keys(init)) this.append(key, init[key]);
  }
  _parse(text) {
    const state = urlState.get(this);
    state.list = [];
    const query = text.charAt(0) === '?' ? text.slice(1) : text;
    if (!query) return;
    for (const part of query.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      const key = eq === -1 ? part : part.slice(0, eq);
      const value = eq === -1 ? '' : part.slice(eq + 1);
      push(state.list, [formDecode(key), formDecode(value)]);
    }
  }
  _update() {
    const state = urlState.get(this);
    if (state.url) state.url._setSearch(this.toString());
  }
  append(key, value) {
    push(urlState.get(this).list, [$String(key), $String(value)]);
    this._update();
  }
  delete(key) {
    const state = urlState.get(this);
    state.list = state.list.filter(([k]) => k !== $String(key));
    this._update();
  }
  get(key) {
    const found = urlState.get(this).list.find(([k]) => k === $String(key));
    return found ? found[1] : null;
  }
  getAll(key) {
    return urlState
      .get(this)
      .list.filter(([k]) => k === $String(key))
      .map(([, v]) => v);
  }
  has(key) {
    return urlState.get(this).list.some(([k]) => k === $String(key));
  }
  set(key, value) {
    const state = urlState.get(this);
    const name = $String(key);
    const index = state.list.findIndex(([k]) => k === name);
    if (index === -1) push(state.list, [name, $String(value)]);
    else {
      state.list[index] = [name, $String(value)];
      state.list = state.list.filter(([k], i) => k !== name || i === index);
    }
    this._update();
  }
  sort() {
    urlState.get(this).list.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this._update();
  }
  forEach(fn, thisArg) {
    for (const [k, v] of urlState.get(this).list) $apply(fn, thisArg, [v, k, this]);
  }
  keys() {
    return urlState
      .get(this)
      .list.map(([k]) => k)
      [$Symbol.iterator]();
  }
  values() {
    return urlState
      .get(this)
      .list.map(([, v]) => v)
      [$Symbol.iterator]();
  }
  entries() {
    return urlState
      .get(this)
      .list.map(([k, v]) => [k, v])
      [$Symbol.iterator]();
  }
  [$Symbol.iterator]() {
    return this.entries();
  }
  get size() {
    return urlState.get(this).list.length;
  }
  toString() {
    return urlState
      .get(this)
      .list.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`)
      .join('&');
  }
}
function formEncode(text) {
  return encodeURIComponent(text)
    .replace(/%20/g, '+')
    .replace(/[!'()~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
function formDecode(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

class URL {
  constructor(input, base) {
    const parts = callSync('url.parse', [$String(input), base === undefined ? undefined : $String(base)]);
    const params = new URLSearchParams(parts.search);
    urlState.get(params).url = this;
    urlState.set(this, { parts, params });
  }
  static canParse(input, base) {
    try {
      new URL(input, base);
      return true;
    } catch {
      return false;
    }
  }
  _setSearch(search) {
    this._set('search', search);
  }
  _set(part, value) {
    const state = urlState.get(this);
    state.parts = callSync('url.set', [state.parts.href, part, $String(value)]);
    if (part !== 'search' && part !== 'href') return;
    const fresh = new URLSearchParams(state.parts.search);
    urlState.get(state.params).list = urlState.get(fresh).list;
  }
  get searchParams() {
    return urlState.get(this).params;
  }
  toString() {
    return this.href;
  }
  toJSON() {
    return this.href;
  }
}
for (const part of URL_PARTS) {
  $defineProperty(URL.prototype, part, {
    get() {
      return urlState.get(this).parts[part];
    },
    set:
      part === 'origin'
        ? undefined
        : function set(value) {
            this._set(part, value);
          },
    enumerable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------------------------------------
// ObjectId: MongoDB's id type, shared by the mongodb shim and the boundary encoding.
let objectIdCounter = $Math.floor($Math.random() * 0xffffff);
const objectIdRandom = bytesToHex([0, 0, 0, 0, 0].map(() => $Math.floor($Math.random() * 256)));
class ObjectId {
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
    $defineProperty(this, '__id', { value: hex });
  }
  static isValid(value) {
    return value instanceof ObjectId || (typeof value === 'string' && /^[0-9a-fA-F]{24}$/.test(value));
  }
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

// ---------------------------------------------------------------------------------------------
// require: exactly the modules the seeds promise, each a shim over host operations.
const ferry = $freeze({ call, callSync, callBlocking, notify, withCallback, runCallback, uncaught, makeError, Buffer, ObjectId, encode, decode });
const moduleCache = new $Map();
function requireModule(name) {
  if (typeof name !== 'string' || !hasOwn(MODULES, name)) {
    const error = new $Error(`Cannot find module '${name}'. Scripts can require: ${$keys(MODULES).join(', ')}.`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  if (!moduleCache.has(name)) moduleCache.set(name, MODULES[name]());
  return moduleCache.get(name);
}

/**
 * The host's `setup` stores the call; the script's compiled source ends with `__ferry_invoke()`,
 * so the script's top level and the call run in one step, whose promise the host awaits.
 */
let pendingCall;
function invoke() {
  const { name, args } = pendingCall;
  pendingCall = undefined;
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new $TypeError('Invalid script name');
  let fn;
  try {
    fn = $eval(name);
  } catch {
    fn = undefined;
  }
  if (typeof fn !== 'function') throw new $TypeError(`The script must define a function named ${name}, e.g. async function ${name}(...) { ... }`);
  let result;
  try {
    result = $apply(fn, undefined, decode(args));
  } catch (error) {
    throw shortened(error);
  }
  return $apply($then, $Promise.resolve(result), [
    (value) => encode(value),
    (error) => {
      throw shortened(error);
    },
  ]);
}

/**
 * What the script failed with, cut to MAX_FAILURE_MESSAGE: a thrown string or Error of megabytes
 * (message or stack) would otherwise be copied out whole, and so would anything else thrown (a
 * plain object is copied with all it holds), so that is kept only if it is small.
 */
function shortened(error) {
  if (typeof error === 'string') return clip(error, MAX_FAILURE_MESSAGE);
  if (error instanceof $Error) {
    const message = typeof error.message === 'string' ? error.message : '';
    const stack = error.stack;
    if (message.length <= MAX_FAILURE_MESSAGE && (typeof stack !== 'string' || stack.length <= 2 * MAX_FAILURE_MESSAGE)) return error;
    const Kind = error instanceof $TypeError ? $TypeError : error instanceof $RangeError ? $RangeError : $Error;
    return new Kind(clip(message, MAX_FAILURE_MESSAGE));
  }
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) return error;
  if (fitsQuietly(error, 2 * MAX_FAILURE_MESSAGE)) return error;
  const message = typeof error.message === 'string' ? clip(error.message, MAX_FAILURE_MESSAGE) : 'The script threw a value too large to report.';
  return new $Error(message);
}

/** Called by the host before the script runs: the connection's variables, this execution's limits, and the call to make. */
function setup(env, executionLimits, name, args) {
  limits = $freeze(executionLimits);
  pendingCall = { name, args };
  $defineProperty(global, 'env', { value: decode(env), writable: true, configurable: true, enumerable: false });
}

const GLOBALS = {
  global,
  console,
  require: requireModule,
  Buffer,
  TextEncoder,
  TextDecoder,
  URL,
  URLSearchParams,
  atob,
  btoa,
  setTimeout: (fn, ms, ...args) => startTimer(fn, ms, args, false),
  setInterval: (fn, ms, ...args) => startTimer(fn, ms, args, true),
  setImmediate: (fn, ...args) => startTimer(fn, 0, args, false),
  clearTimeout: clearTimer,
  clearInterval: clearTimer,
  clearImmediate: clearTimer,
  queueMicrotask: (fn) => {
    $apply($then, $Promise.resolve(), [
      () => {
        try {
          fn();
        } catch (error) {
          uncaught(error);
        }
      },
    ]);
  },
};
for (const name of $keys(GLOBALS)) $defineProperty(global, name, { value: GLOBALS[name], writable: true, configurable: true, enumerable: false });
$defineProperty(global, '__ferry_invoke', { value: invoke, configurable: true });
