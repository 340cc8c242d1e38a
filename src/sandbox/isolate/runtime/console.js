// @ts-check
// console: lines formatted as Node would, cut to limits.consoleBytes in all, sent to the host in batches.
let consoleUsed = 0;
let consoleClosed = false;
/**
 * @param {unknown} value
 * @param {number} depth
 * @param {unknown[]} seen
 * @returns {string}
 */
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
    /** @type {string[]} */
    const parts = [];
    for (let i = 0; i < value.length && i < 100; i += 1) push(parts, format(value[i], depth + 1, seen));
    if (value.length > 100) push(parts, `... ${value.length - 100} more items`);
    return `[ ${$apply($join, parts, [', '])} ]`;
  }
  const names = $keys(value);
  /** @type {string[]} */
  const parts = [];
  for (let i = 0; i < names.length && i < 100; i += 1) push(parts, `${names[i]}: ${format(/** @type {any} */ (value)[names[i]], depth + 1, seen)}`);
  return parts.length ? `{ ${$apply($join, parts, [', '])} }` : '{}';
}
/**
 * @param {string} level
 * @param {unknown[]} args
 */
function writeConsole(level, args) {
  if (consoleClosed) return;
  /** @type {string[]} */
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
/** @type {[level: string, text: string, time: number][]} */
let consoleBatch = [];
let flushScheduled = false;
function sendLines() {
  if (consoleBatch.length === 0) return;
  const lines = consoleBatch;
  consoleBatch = [];
  notify('console', [lines]);
}
/**
 * @param {string} level
 * @param {string} text
 */
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
  log: (/** @type {unknown[]} */ ...args) => writeConsole('log', args),
  info: (/** @type {unknown[]} */ ...args) => writeConsole('info', args),
  debug: (/** @type {unknown[]} */ ...args) => writeConsole('debug', args),
  warn: (/** @type {unknown[]} */ ...args) => writeConsole('warn', args),
  error: (/** @type {unknown[]} */ ...args) => writeConsole('error', args),
  trace: (/** @type {unknown[]} */ ...args) => writeConsole('trace', args),
  dir: (/** @type {unknown} */ value) => writeConsole('log', [value]),
  table: (/** @type {unknown} */ value) => writeConsole('log', [value]),
});
