// @ts-check
// Runs first in every fresh context, as the body of `ferryRuntime(host)`: `host` is a reference to
// the host's dispatcher, passed as an argument so that it is never on the global object and lives
// only in this closure. The function returns `setup` (see below) to the host.
const global = globalThis;
/** Set by the host through `setup` before each execution. */
// biome-ignore lint/style/useConst: entry.js's setup assigns it (these files share one closure)
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
/** @type {(object: object, key: PropertyKey) => boolean} */
const hasOwn = (object, key) => $apply($hasOwn, object, [key]);
/** @type {<T>(array: T[], value: T) => number} */
const push = (array, value) => $apply($push, array, [value]);
const hostApply = host.apply;
const hostApplySync = host.applySync;
const hostApplyIgnored = host.applyIgnored;
const hostApplySyncPromise = host.applySyncPromise;

// Script code gets no shared memory, no WebAssembly and no blocking waits: nothing that could
// outlive or sidestep the host's deadline.
/** @type {Record<string, any>} */
const removable = global;
delete removable.SharedArrayBuffer;
delete removable.WebAssembly;
if (removable.Atomics) {
  delete removable.Atomics.wait;
  delete removable.Atomics.waitAsync;
}
// Nor V8's gc(), which every context has when Node runs with --expose-gc (in NODE_OPTIONS, say).
// V8 makes it non-configurable: it cannot be deleted, only overwritten for good.
if (hasOwn(global, 'gc')) $defineProperty(global, 'gc', { value: undefined, writable: false });
