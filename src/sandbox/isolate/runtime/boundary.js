// @ts-check
// The boundary: every value that leaves the isolate (the script's result, the arguments of a host
// call) is encoded here, and measured while it is, before isolated-vm copies it. isolated-vm
// flattens and copies a string on the host whole, so a result of four fields pointing at one
// 512 MB rope cost the host 2.6 GB although the isolate held 512 MB: the size has to be known
// before the copy, and only the isolate can learn it cheaply.

/** Deeper than any profile or query; deeper values are refused instead of being copied raw. */
const MAX_DEPTH = 64;

/**
 * Longest text `clip` cuts a prefix from. V8 flattens a rope before slicing it, and that copy
 * escapes the isolate's heap limit: slicing a 512 MiB `repeat()` for its first 2,000 characters
 * grew the process by 512 MiB. A longer text is described instead of quoted.
 */
const MAX_CLIPPED_TEXT = 2 ** 25;

/**
 * `text` cut to `max` characters, without ever flattening a huge rope (see MAX_CLIPPED_TEXT).
 * @param {string} text
 * @param {number} max
 */
function clip(text, max) {
  if (text.length <= max) return text;
  if (text.length > MAX_CLIPPED_TEXT) return `[${text.length} characters, too long to keep]`;
  return $apply($slice, text, [0, max]);
}

/**
 * Stops the execution with `kind` ('limit' or 'invalid_result'): the host is told synchronously,
 * so the outcome says why even if the script catches the error this returns.
 * @param {string} kind
 * @param {string} message
 */
function refuse(kind, message) {
  callSync('boundary.refuse', [kind, message], Infinity);
  /** @type {CodedError} */
  const error = new $RangeError(message);
  error.code = kind === 'limit' ? 'ERR_FERRY_LIMIT' : 'ERR_FERRY_INVALID_VALUE';
  return error;
}

/**
 * UTF-8 bytes of `text`, or any number above `left` once it is clear the text does not fit. A
 * UTF-16 unit is at least one UTF-8 byte, so a text longer than what is left is refused unread.
 * @param {string} text
 * @param {number} left
 */
function utf8Bytes(text, left) {
  const length = text.length;
  if (length > left) return length;
  let bytes = 0;
  for (let i = 0; i < length; i += 1) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < length) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
    if (bytes > left) return bytes;
  }
  return bytes;
}

/**
 * The copy of `value` that crosses to the host: ObjectIds tagged, toJSON applied to class
 * instances, functions and undefined properties left out. Refused (see `refuse`) when it counts
 * more than `budget` bytes, nests deeper than MAX_DEPTH, or refers to itself (a cycle, or a
 * toJSON that returns its own object). `what` names the value and the limit in the message.
 * @param {unknown} value
 * @param {number} [budget]
 * @param {What} [what]
 * @returns {unknown}
 */
function encode(value, budget = limits.resultBytes, what = resultWhat) {
  if (value === null || typeof value !== 'object') return encodeLeaf(value, { left: budget, budget, what, ancestors: [] });
  return encodeValue(value, 0, { left: budget, budget, what, ancestors: [] });
}
/** @typedef {{ name: string, plural: boolean, limit: string }} What */
/** @typedef {{ left: number, budget: number, what: What, ancestors: object[], quiet?: boolean }} EncodeState one walk's budget left and path */
/** @type {Readonly<What>} */
const resultWhat = $freeze({ __proto__: null, name: "The script's result", plural: false, limit: 'maxResultKb' });
/**
 * @param {OpName} op
 * @returns {What}
 */
function callWhat(op) {
  return /** @type {What} */ ({ __proto__: null, name: `The values passed to ${op}`, plural: true, limit: 'maxResultKb' });
}

/**
 * True when `value` encodes within `budget` bytes; nothing is refused or reported.
 * @param {object} value
 * @param {number} budget
 */
function fitsQuietly(value, budget) {
  try {
    encodeValue(value, 0, { left: budget, budget, what: resultWhat, ancestors: [], quiet: true });
    return true;
  } catch (error) {
    if (error === TOO_LARGE) return false;
    throw error;
  }
}
const TOO_LARGE = $freeze({ __proto__: null });

/**
 * @param {EncodeState} state
 * @param {number} bytes
 */
function charge(state, bytes) {
  state.left -= bytes;
  if (state.left < 0) {
    if (state.quiet) throw TOO_LARGE;
    throw refuse(
      'limit',
      `${state.what.name} ${state.what.plural ? 'are' : 'is'} larger than the limit of ${$Math.floor(state.budget / 1024)} KiB (connection.limits.${state.what.limit}).`,
    );
  }
}

/**
 * A value that cannot be copied: the result ends the execution as `invalid_result`; a call's
 * arguments are only refused, with an error the script may catch, as a driver's own check would.
 * @param {EncodeState} state
 * @param {string} message
 */
function unusable(state, message) {
  if (state.quiet) return TOO_LARGE;
  if (state.what === resultWhat) return refuse('invalid_result', message);
  return new $TypeError(message);
}

/**
 * @param {unknown} value
 * @param {EncodeState} state
 */
function encodeLeaf(value, state) {
  if (typeof value === 'string') charge(state, utf8Bytes(value, state.left));
  else if (typeof value === 'bigint') charge(state, $String(value).length);
  else charge(state, 8);
  return value;
}

/**
 * @param {any} value
 * @param {number} depth
 * @param {EncodeState} state
 * @returns {unknown}
 */
function encodeValue(value, depth, state) {
  if (value === null || typeof value !== 'object') return encodeLeaf(value, state);
  if (depth > MAX_DEPTH) throw unusable(state, `${state.what.name} ${state.what.plural ? 'are' : 'is'} nested deeper than ${MAX_DEPTH} levels.`);
  const ancestors = state.ancestors;
  for (let i = 0; i < ancestors.length; i += 1) {
    if (ancestors[i] === value)
      throw unusable(
        state,
        `${state.what.name} ${state.what.plural ? 'refer' : 'refers'} to itself (a cycle, or a toJSON() that returns its own object), so it cannot be copied.`,
      );
  }
  if (value instanceof ObjectId) {
    charge(state, 48);
    return { [TAG]: 'ObjectId', hex: value.toHexString() };
  }
  if (value instanceof $Uint8Array || value instanceof $ArrayBuffer) {
    charge(state, value.byteLength);
    return value;
  }
  if (value instanceof $Date) {
    charge(state, 8);
    return value;
  }
  if (value instanceof $RegExp) {
    charge(state, utf8Bytes(value.source, state.left));
    return value;
  }
  push(ancestors, value);
  try {
    if ($isArray(value)) {
      const length = value.length;
      // A byte per element before any is read: `new Array(1e9)` is refused, not walked.
      charge(state, length);
      /** @type {unknown[]} */
      const out = [];
      for (let i = 0; i < length; i += 1) push(out, encodeValue(value[i], depth + 1, state));
      return out;
    }
    const proto = $getPrototypeOf(value);
    if (proto !== null && proto !== $Object.prototype && typeof value.toJSON === 'function') return encodeValue(value.toJSON(), depth + 1, state);
    /** @type {Record<string, unknown>} */
    const out = {};
    const names = $keys(value);
    for (let i = 0; i < names.length; i += 1) {
      const item = value[names[i]];
      if (typeof item === 'function' || item === undefined) continue;
      charge(state, utf8Bytes(names[i], state.left) + 1);
      setOwn(out, names[i], encodeValue(item, depth + 1, state));
    }
    return out;
  } finally {
    ancestors.length -= 1;
  }
}
