// require('util'): promisify and callbackify, so that Node-style callback APIs (crypto's pbkdf2,
// scrypt and randomBytes, mysql2's callback API) can be awaited, plus the text codecs Node puts here.
function utilModule() {
  const custom = $Symbol.for('nodejs.util.promisify.custom');
  function mustBeFunction(value, what) {
    if (typeof value === 'function') return;
    const error = /** @type {TypeError & { code?: string }} */ (new $TypeError(`The "${what}" argument must be of type function`));
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
  function promisify(original) {
    mustBeFunction(original, 'original');
    if (original[custom] !== undefined) {
      mustBeFunction(original[custom], 'util.promisify.custom');
      return original[custom];
    }
    /** @this {unknown} */
    function promisified(...args) {
      return new $Promise((resolve, reject) => {
        $apply(original, this, [...args, (error, value) => (error ? reject(error) : resolve(value))]);
      });
    }
    $setPrototypeOf(promisified, $getPrototypeOf(original));
    $defineProperty(promisified, custom, /** @type {PropertyDescriptor} */ ({ __proto__: null, value: promisified, configurable: true }));
    return promisified;
  }
  promisify.custom = custom;
  function callbackify(original) {
    mustBeFunction(original, 'original');
    /** @this {unknown} */
    return function callbackified(...args) {
      const callback = args.pop();
      mustBeFunction(callback, 'last argument');
      const settle = (error, value) => runCallback(callback, error, value);
      $apply($then, $Promise.resolve($apply(original, this, args)), [(value) => settle(null, value), (reason) => settle(reason || new $Error(`${reason}`))]);
    };
  }
  return { promisify, callbackify, TextEncoder, TextDecoder };
}
