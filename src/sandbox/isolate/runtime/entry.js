// @ts-check
// The entry points: `setup` (returned to the host), `__ferry_invoke` (called by the script's compiled
// source), and the globals a script sees.
/**
 * The host's `setup` stores the call; the script's compiled source ends with `__ferry_invoke()`,
 * so the script's top level and the call run in one step, whose promise the host awaits.
 */
/** @type {{ name: string, args: unknown[] } | undefined} */
let pendingCall;
function invoke() {
  const { name, args } = /** @type {{ name: string, args: unknown[] }} */ (pendingCall);
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
 * @param {any} error
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

/**
 * Called by the host before the script runs: the connection's variables, this execution's limits, and the call to make.
 * @param {unknown} env
 * @param {typeof limits} executionLimits
 * @param {string} name
 * @param {unknown[]} args
 */
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
  setTimeout: (/** @type {unknown} */ fn, /** @type {unknown} */ ms, /** @type {unknown[]} */ ...args) => startTimer(fn, ms, args, false),
  setInterval: (/** @type {unknown} */ fn, /** @type {unknown} */ ms, /** @type {unknown[]} */ ...args) => startTimer(fn, ms, args, true),
  setImmediate: (/** @type {unknown} */ fn, /** @type {unknown[]} */ ...args) => startTimer(fn, 0, args, false),
  clearTimeout: clearTimer,
  clearInterval: clearTimer,
  clearImmediate: clearTimer,
  queueMicrotask: (/** @type {() => void} */ fn) => {
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
for (const name of $keys(GLOBALS))
  $defineProperty(global, name, { value: /** @type {Record<string, unknown>} */ (GLOBALS)[name], writable: true, configurable: true, enumerable: false });
$defineProperty(global, '__ferry_invoke', { value: invoke, configurable: true });
