/**
 * JavaScript prepended to attack scripts: helpers that run inside the isolate and report what a
 * script can reach. Each captures the intrinsics it needs first, so attacks that patch built-ins
 * later cannot blind them.
 */

/**
 * `__scan(roots)` walks everything statically reachable from `roots` (own property values,
 * getters, setters and prototypes; no getter is invoked) and reports, by path:
 * - native functions that are not part of the standard built-ins (a host callback or an
 *   isolated-vm method shows as native code; the runtime's own shims do not), and
 * - properties named like isolated-vm's API (`applySync`, `derefInto`, `copyInto`, …).
 */
export const SCAN = `
const __scan = (() => {
  const { ownKeys, getOwnPropertyDescriptor, getPrototypeOf, apply } = Reflect;
  const fnToString = Function.prototype.toString;
  const setHas = Set.prototype.has, setAdd = Set.prototype.add, arrayPush = Array.prototype.push;
  const IVM_NAMES = ['applySync', 'applySyncPromise', 'applyIgnored', 'derefInto', 'copyInto', 'getSync', 'setSync', 'deleteSync',
    'compileScript', 'compileScriptSync', 'createContext', 'createContextSync', 'evalClosure', 'evalClosureSync', 'evalSync',
    'getHeapStatistics', 'startCpuProfiler', '__ferry_host', '__ferry_setup'];
  const isNative = (fn) => { try { return apply(fnToString, fn, []).includes('[native code]'); } catch { return true; } };
  // V8 makes a fresh native function for each promise's resolve and reject (and Promise.all's
  // element callbacks): anonymous, one parameter, no own property but length and name.
  const resolvingShape = (fn) => fn.name === '' && fn.length === 1 && ownKeys(fn).length === 2;
  const label = (key) => (typeof key === 'symbol' ? '[' + String(key) + ']' : String(key));
  function walk(roots, seen, visit) {
    const queue = roots.slice();
    for (let i = 0; i < queue.length && i < 300000; i += 1) {
      const [value, path] = queue[i];
      if ((typeof value !== 'object' && typeof value !== 'function') || value === null || apply(setHas, seen, [value])) continue;
      apply(setAdd, seen, [value]);
      visit(value, path);
      let keys = [];
      try { keys = ownKeys(value); } catch { keys = []; }
      for (const key of keys) {
        if (IVM_NAMES.includes(key)) visit(undefined, path + '.' + label(key), 'isolated-vm-like property');
        let descriptor;
        try { descriptor = getOwnPropertyDescriptor(value, key); } catch { continue; }
        if (!descriptor) continue;
        for (const part of ['value', 'get', 'set']) if (part in descriptor) apply(arrayPush, queue, [[descriptor[part], path + '.' + label(key) + (part === 'value' ? '' : '<' + part + '>')]]);
      }
      try { apply(arrayPush, queue, [[getPrototypeOf(value), path + '.__proto__']]); } catch {}
    }
  }
  const STANDARD = ['Object', 'Function', 'Array', 'Number', 'parseFloat', 'parseInt', 'Boolean', 'String', 'Symbol', 'Date', 'Promise',
    'RegExp', 'Error', 'AggregateError', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'JSON',
    'Math', 'Intl', 'ArrayBuffer', 'Atomics', 'Uint8Array', 'Int8Array', 'Uint16Array', 'Int16Array', 'Uint32Array', 'Int32Array',
    'BigUint64Array', 'BigInt64Array', 'Uint8ClampedArray', 'Float32Array', 'Float64Array', 'Float16Array', 'DataView', 'Map', 'BigInt',
    'Set', 'Iterator', 'WeakMap', 'WeakSet', 'Proxy', 'Reflect', 'FinalizationRegistry', 'WeakRef', 'decodeURI', 'decodeURIComponent',
    'encodeURI', 'encodeURIComponent', 'escape', 'unescape', 'eval', 'isFinite', 'isNaN', 'SuppressedError', 'DisposableStack',
    'AsyncDisposableStack'];
  const intrinsics = [
    (async function () {}).constructor, (function* () {}).constructor, (async function* () {}).constructor,
    [][Symbol.iterator](), new Map().entries(), new Set().values(), ''[Symbol.iterator](), /a/g[Symbol.matchAll](''),
    (function () { 'use strict'; return Object.getOwnPropertyDescriptor(arguments, 'callee').get; })(),
    [].values().map((x) => x), new Intl.Segmenter().segment('a'), new Intl.Segmenter().segment('a')[Symbol.iterator](),
    (async function* () {})().constructor, Iterator.from({ next() { return { done: true }; } }),
    Object.getOwnPropertyDescriptor(new Error('x'), 'stack'), // V8's own accessor on every error
  ];
  const standard = new Set();
  const known = new Set();
  walk(STANDARD.filter((name) => name in globalThis).map((name) => [globalThis[name], name]).concat(intrinsics.map((value, i) => [value, 'intrinsic' + i])),
    known, (value) => { if (typeof value === 'function' && isNative(value)) apply(setAdd, standard, [value]); });
  return function scan(roots) {
    const findings = [];
    const seen = new Set(known);
    walk(roots, seen, (value, path, why) => {
      if (why) apply(arrayPush, findings, [path + ': ' + why]);
      else if (typeof value === 'function' && isNative(value) && !apply(setHas, standard, [value]) && !resolvingShape(value)) apply(arrayPush, findings, [path + ': native function outside the built-ins']);
    });
    return findings;
  };
})();
`;

/**
 * `__chains(label, value)` follows constructor chains from `value` to whatever function
 * constructors they reach, and reports whether each is this context's own (`Function`, or the
 * async/generator variants) and what code built by it can see.
 */
export const CHAINS = `
const __chains = (() => {
  const realmConstructors = [Function, (async function () {}).constructor, (function* () {}).constructor, (async function* () {}).constructor];
  const sameRealm = (fn) => realmConstructors.includes(fn);
  const globalObject = globalThis;
  const tryRead = (read) => { try { return read(); } catch { return undefined; } };
  return function chains(label, value) {
    const reached = [];
    const object = tryRead(() => Object(value));
    const steps = [
      ['constructor.constructor', () => object.constructor.constructor],
      ['__proto__.constructor.constructor', () => Object.getPrototypeOf(object).constructor.constructor],
      ['constructor.constructor.constructor', () => object.constructor.constructor.constructor],
    ];
    if (typeof value === 'function') steps.push(['constructor', () => value.constructor]);
    for (const [step, read] of steps) {
      const fn = tryRead(read);
      if (typeof fn !== 'function') continue;
      let sees;
      try {
        const built = fn('return [typeof process, typeof require === "function" ? (() => { try { return typeof require("fs"); } catch (e) { return "refused"; } })() : "none", this === undefined || this === globalThis ? "own" : "foreign"]');
        const result = built();
        sees = result && typeof result.then === 'function' ? 'async' : result && typeof result.next === 'function' ? 'generator' : result.join(',');
      } catch (error) {
        sees = 'threw ' + (error && error.name);
      }
      reached.push({ label, step, sameRealm: sameRealm(fn), sees });
    }
    return reached;
  };
})();
`;

/**
 * `__frames(run)` runs `run` with a recording Error.prepareStackTrace and returns, for every
 * call site of every stack captured meanwhile, its file and whether getThis/getFunction gave
 * anything.
 */
export const FRAMES = `
const __frames = [];
Error.prepareStackTrace = (error, sites) => {
  for (const site of sites) {
    __frames.push({ file: String(site.getFileName()), fn: String(site.getFunctionName()), hasThis: site.getThis() !== undefined, hasFunction: site.getFunction() !== undefined });
  }
  return 'recorded';
};
const __capture = () => { const holder = {}; Error.captureStackTrace(holder); return holder.stack; };
`;
