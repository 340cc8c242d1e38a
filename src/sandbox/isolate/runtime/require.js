// @ts-check
// require: exactly the modules the seeds promise, each a shim over host operations.
// `ferry` is what every module file gets (see ../../isolate-source.ts for the list of modules).
const ferry = $freeze({ call, callSync, callBlocking, notify, withCallback, runCallback, uncaught, makeError, Buffer, ObjectId, encode, decode });
/** @typedef {typeof ferry} Ferry what a module file's builder is given */
const moduleCache = new $Map();
/** @param {unknown} name */
function requireModule(name) {
  if (typeof name !== 'string' || !hasOwn(MODULES, name)) {
    /** @type {CodedError} */
    const error = new $Error(`Cannot find module '${name}'. Scripts can require: ${$keys(MODULES).join(', ')}.`);
    error.code = 'MODULE_NOT_FOUND';
    throw error;
  }
  if (!moduleCache.has(name)) moduleCache.set(name, MODULES[name]());
  return moduleCache.get(name);
}
