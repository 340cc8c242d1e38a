// @ts-check
// Node-style callbacks and uncaught exceptions: what a script's own code throws where nothing can catch it.
/**
 * Node-style optional trailing callback on a promise-returning function; the callback runs once.
 * With `spread`, a resolved [a, b] is passed as callback(null, a, b) (mysql's results, fields).
 * @param {Promise<any>} promise
 * @param {unknown} callback
 * @param {boolean} [spread]
 */
function withCallback(promise, callback, spread = false) {
  if (typeof callback !== 'function') return promise;
  let called = false;
  /** @type {(error: unknown, value?: unknown, extra?: unknown) => void} */
  const once = (error, value, extra) => {
    if (called) return;
    called = true;
    runCallback(callback, error, value, extra);
  };
  $apply($then, promise, [(value) => (spread ? once(null, value[0], value[1]) : once(null, value)), (error) => once(error)]);
  return undefined;
}
/**
 * @param {Function} callback
 * @param {unknown} error
 * @param {unknown} [value]
 * @param {unknown} [extra]
 */
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
/** @param {any} error */
function uncaught(error) {
  if (uncaughtReported) return;
  uncaughtReported = true;
  const message = error && typeof error.message === 'string' ? error.message : $String(error);
  const stack = error && typeof error.stack === 'string' ? error.stack : undefined;
  notify('uncaught', [clip(message, MAX_FAILURE_MESSAGE), stack === undefined ? undefined : clip(stack, 2 * MAX_FAILURE_MESSAGE)]);
}
