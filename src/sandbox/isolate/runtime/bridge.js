// @ts-check
// The bridge: the four ways this closure calls the host (see createDispatcher in ../../bridge/index.ts),
// and decode(), which every value coming back goes through.
const COPY = $freeze({ __proto__: null, copy: true });
const ASYNC = $freeze({ __proto__: null, arguments: COPY, result: $freeze({ __proto__: null, promise: true, copy: true }) });
const SYNC = $freeze({ __proto__: null, arguments: COPY, result: COPY });
const IGNORED = $freeze({ __proto__: null, arguments: COPY });
const SYNC_PROMISE = $freeze({ __proto__: null, arguments: COPY });

/** @param {HostError | undefined} error */
function makeError(error) {
  const Kind = error && error.name === 'TypeError' ? $TypeError : error && error.name === 'RangeError' ? $RangeError : $Error;
  /** @type {CodedError} */
  const made = new Kind(error && typeof error.message === 'string' ? error.message : 'Unknown error');
  if (error && error.code !== undefined) made.code = error.code;
  if (error && error.errno !== undefined) made.errno = error.errno;
  if (error && error.sqlState !== undefined) made.sqlState = error.sqlState;
  if (error && error.number !== undefined) made.number = error.number;
  return made;
}

let inflight = 0;
/** @param {HostAnswer} result */
function settle(result) {
  if (result && result.ok === true) return decode(result.value);
  throw makeError(result?.error);
}

/**
 * An asynchronous host operation. At most `limits.maxBridgeOps` run at once per execution
 * (timers are limited by `limits.maxTimers` instead, so they pass `counted = false`).
 */
/**
 * @param {OpName} op
 * @param {unknown[]} args
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
    throw makeError({ message: `Values of this type cannot be passed to ${op}: ${/** @type {Error | undefined} */ (error)?.message}` });
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
/** @param {OpName} op */
function hostFailure(op) {
  return makeError({ message: `The host could not answer ${op}, or could not take its arguments.` });
}

/**
 * A synchronous host operation (URL parsing and the like).
 * @param {OpName} op
 * @param {unknown[]} args
 */
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

/**
 * A host operation that is asynchronous on the host but blocks this script (bcrypt's *Sync).
 * @param {OpName} op
 * @param {unknown[]} args
 */
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

/**
 * Notifications carry console lines and failure messages, already cut to their own limits.
 * @param {OpName} op
 * @param {unknown[]} args
 */
function notify(op, args) {
  $apply(hostApplyIgnored, host, [undefined, ['ignored', op, encode(args, Infinity, callWhat(op))], IGNORED]);
}

// ObjectId crosses the boundary as a tagged plain object; Uint8Array coming back becomes Buffer.
const TAG = '__ferryType';
/**
 * A key named "__proto__" is copied as data: assigning it would set the copy's prototype instead.
 * @param {Record<string, unknown>} target
 * @param {string} key
 * @param {unknown} value
 */
function setOwn(target, key, value) {
  if (key === '__proto__')
    $defineProperty(target, key, /** @type {PropertyDescriptor} */ ({ __proto__: null, value, writable: true, enumerable: true, configurable: true }));
  else target[key] = value;
}
// encode(): see boundary.js, which measures what it encodes.
/**
 * @param {any} value
 * @returns {any}
 */
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
