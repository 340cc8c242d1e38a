// require('crypto'): the part of Node 12's crypto that password checks use. Strings and views are
// turned into bytes here, as Node would; every hash, derivation and random byte is made on the host.
function cryptoModule(ferry) {
  const { call, callSync, callBlocking, withCallback } = ferry;
  const HASHES = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];
  const OFFERED = 'createHash, createHmac, pbkdf2, pbkdf2Sync, scrypt, scryptSync, timingSafeEqual, randomBytes, randomUUID, getHashes, subtle.digest';
  const state = new WeakMap();

  function fail(Kind, code, message) {
    const error = new Kind(message);
    error.code = code;
    return error;
  }
  function invalidType(what, expected) {
    return fail($TypeError, 'ERR_INVALID_ARG_TYPE', `The "${what}" argument must be ${expected}`);
  }
  function unavailable(name) {
    return fail($Error, 'ERR_FERRY_NOT_AVAILABLE', `crypto.${name} is not available in Ferry scripts (they offer ${OFFERED}).`);
  }

  /** A fresh copy of the bytes of a string (in `encoding`), an ArrayBuffer or any view of one. */
  function toBytes(value, encoding, what, allowString = true) {
    let view;
    if (typeof value === 'string' && allowString) view = Buffer.from(value, Buffer.isEncoding(encoding) ? encoding : 'utf8');
    else if (value instanceof $ArrayBuffer) view = new $Uint8Array(value);
    else if ($ArrayBuffer.isView(value)) view = new $Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    else throw invalidType(what, `${allowString ? 'of type string or ' : ''}an instance of ArrayBuffer, Buffer, TypedArray, or DataView`);
    if (view.byteLength > limits.cryptoInputBytes) throw inputTooLarge(what);
    const copy = new $Uint8Array(view.byteLength);
    copy.set(view);
    return copy;
  }
  function inputTooLarge(what) {
    const kb = $Math.floor(limits.cryptoInputBytes / 1024);
    return fail($RangeError, 'ERR_FERRY_CRYPTO_COST', `The ${what} is over the limit of ${kb} KiB (connection.limits.maxCryptoInputKb).`);
  }
  function digestName(value, what) {
    if (typeof value !== 'string') throw invalidType(what, 'of type string');
    const name = value.toLowerCase();
    if (HASHES.indexOf(name) === -1)
      throw fail($TypeError, 'ERR_CRYPTO_INVALID_DIGEST', `Invalid digest: ${value} (Ferry scripts offer ${HASHES.join(', ')}).`);
    return name;
  }
  function output(buffer, encoding) {
    return encoding === undefined || encoding === 'buffer' || !Buffer.isEncoding(encoding) ? buffer : buffer.toString(encoding);
  }

  /** Hash and Hmac: updates are kept (bounded by maxCryptoInputKb) and digested by the host in one call. */
  class Digest {
    constructor(algorithm, key) {
      state.set(this, { algorithm, key, chunks: [], size: 0, done: false });
    }
    update(data, inputEncoding) {
      const own = state.get(this);
      if (own.done) throw fail($Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
      const bytes = toBytes(data, inputEncoding, 'data');
      if (own.size + bytes.byteLength > limits.cryptoInputBytes) throw inputTooLarge('data hashed');
      own.size += bytes.byteLength;
      push(own.chunks, bytes);
      return this;
    }
    digest(outputEncoding) {
      const own = state.get(this);
      if (own.done) {
        if (own.key === undefined) throw fail($Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
        return output(Buffer.alloc(0), outputEncoding); // Node's Hmac answers an empty digest the second time
      }
      own.done = true;
      const data = Buffer.concat(own.chunks, own.size);
      own.chunks = [];
      const args = own.key === undefined ? [own.algorithm, data] : [own.algorithm, data, own.key];
      return output(callSync('crypto.digest', args, 2 * limits.cryptoInputBytes + 1024), outputEncoding);
    }
  }
  class Hash extends Digest {
    copy() {
      const own = state.get(this);
      if (own.done) throw fail($Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
      const twin = new Hash(own.algorithm);
      const copied = state.get(twin);
      copied.chunks = own.chunks.slice();
      copied.size = own.size;
      return twin;
    }
  }
  class Hmac extends Digest {}

  function createHash(algorithm) {
    if (typeof algorithm !== 'string') throw invalidType('algorithm', 'of type string');
    const name = algorithm.toLowerCase();
    if (HASHES.indexOf(name) === -1) throw new $Error(`Digest method not supported: ${algorithm} (Ferry scripts offer ${HASHES.join(', ')}).`);
    return new Hash(name);
  }
  function createHmac(algorithm, key) {
    const name = digestName(algorithm, 'hmac');
    if (key === null || key === undefined) throw invalidType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView');
    return new Hmac(name, toBytes(key, 'utf8', 'key'));
  }

  function pbkdf2Args(password, salt, iterations, keylen, digest) {
    if (typeof iterations !== 'number') throw invalidType('iterations', 'of type number');
    if (typeof keylen !== 'number') throw invalidType('keylen', 'of type number');
    return [toBytes(password, 'utf8', 'password'), toBytes(salt, 'utf8', 'salt'), iterations, keylen, digestName(digest, 'digest')];
  }
  function pbkdf2(password, salt, iterations, keylen, digest, callback) {
    if (typeof digest === 'function') [digest, callback] = [undefined, digest];
    const args = pbkdf2Args(password, salt, iterations, keylen, digest);
    if (typeof callback !== 'function') throw invalidType('callback', 'of type function');
    withCallback(call('crypto.pbkdf2', args), callback);
  }
  function pbkdf2Sync(password, salt, iterations, keylen, digest) {
    return callBlocking('crypto.pbkdf2', pbkdf2Args(password, salt, iterations, keylen, digest));
  }

  function scryptArgs(password, salt, keylen, options) {
    if (typeof keylen !== 'number') throw invalidType('keylen', 'of type number');
    if (options !== undefined && options !== null && typeof options !== 'object') throw invalidType('options', 'of type object');
    const picked = {};
    for (const key of ['N', 'r', 'p', 'cost', 'blockSize', 'parallelization', 'maxmem']) if (options && options[key] !== undefined) picked[key] = options[key];
    return [toBytes(password, 'utf8', 'password'), toBytes(salt, 'utf8', 'salt'), keylen, picked];
  }
  function scrypt(password, salt, keylen, options, callback) {
    if (typeof options === 'function') [options, callback] = [undefined, options];
    const args = scryptArgs(password, salt, keylen, options);
    if (typeof callback !== 'function') throw invalidType('callback', 'of type function');
    withCallback(call('crypto.scrypt', args), callback);
  }
  function scryptSync(password, salt, keylen, options) {
    return callBlocking('crypto.scrypt', scryptArgs(password, salt, keylen, options));
  }

  function randomBytes(size, callback) {
    if (typeof size !== 'number') throw invalidType('size', 'of type number');
    if (callback !== undefined && typeof callback !== 'function') throw invalidType('callback', 'of type function');
    const bytes = callSync('crypto.randomBytes', [size]);
    if (callback === undefined) return bytes;
    withCallback($Promise.resolve(bytes), callback);
  }
  function timingSafeEqual(a, b) {
    const left = toBytes(a, undefined, 'buf1', false);
    const right = toBytes(b, undefined, 'buf2', false);
    if (left.byteLength !== right.byteLength) throw fail($RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
    return callSync('crypto.timingSafeEqual', [left, right], 2 * limits.cryptoInputBytes + 1024);
  }

  // Web Crypto's digest only: 'SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', resolving to an ArrayBuffer.
  const WEB_DIGESTS = { __proto__: null, 'sha-1': 'sha1', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };
  const subtle = { __proto__: null };
  subtle.digest = (algorithm, data) =>
    $Promise.resolve().then(() => {
      const label = typeof algorithm === 'string' ? algorithm : algorithm?.name;
      const name = typeof label === 'string' ? WEB_DIGESTS[label.toLowerCase()] : undefined;
      if (name === undefined)
        throw fail($Error, 'ERR_FERRY_NOT_AVAILABLE', `Unrecognized algorithm name: ${label} (Ferry scripts offer SHA-1, SHA-256, SHA-384, SHA-512).`);
      const digest = callSync('crypto.digest', [name, toBytes(data, undefined, 'data', false)], limits.cryptoInputBytes + 1024);
      return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength);
    });
  for (const name of ['encrypt', 'decrypt', 'sign', 'verify', 'generateKey', 'deriveKey', 'deriveBits', 'importKey', 'exportKey', 'wrapKey', 'unwrapKey'])
    subtle[name] = () => $Promise.reject(unavailable(`subtle.${name}`));

  const exports = {
    createHash,
    createHmac,
    pbkdf2,
    pbkdf2Sync,
    scrypt,
    scryptSync,
    randomBytes,
    randomUUID: () => callSync('crypto.randomUUID', []),
    timingSafeEqual,
    getHashes: () => HASHES.slice(),
    subtle: $freeze(subtle),
    webcrypto: $freeze({ __proto__: null, subtle: $freeze(subtle) }),
    DEFAULT_ENCODING: 'buffer',
  };
  // The rest of Node's crypto is there by name, so that a script using it fails saying so.
  for (const name of UNSUPPORTED_CRYPTO) {
    exports[name] = function notAvailable() {
      throw unavailable(name);
    };
  }
  $defineProperty(
    exports,
    'constants',
    /** @type {PropertyDescriptor} */ ({
      __proto__: null,
      get: () => {
        throw unavailable('constants');
      },
    }),
  );
  return exports;
}
const UNSUPPORTED_CRYPTO = [
  ...['createCipher', 'createCipheriv', 'createDecipher', 'createDecipheriv', 'createSign', 'createVerify', 'sign', 'verify'],
  ...['createDiffieHellman', 'createDiffieHellmanGroup', 'getDiffieHellman', 'createECDH', 'diffieHellman', 'hkdf', 'hkdfSync'],
  ...['generateKeyPair', 'generateKeyPairSync', 'generateKey', 'generateKeySync', 'createPrivateKey', 'createPublicKey', 'createSecretKey'],
  ...['publicEncrypt', 'publicDecrypt', 'privateEncrypt', 'privateDecrypt', 'getCiphers', 'getCurves', 'getCipherInfo', 'setEngine'],
  ...['randomFill', 'randomFillSync', 'randomInt', 'getRandomValues', 'pseudoRandomBytes', 'prng', 'rng', 'hash', 'getFips', 'setFips'],
  ...['secureHeapUsed', 'checkPrime', 'checkPrimeSync', 'generatePrime', 'generatePrimeSync', 'Certificate', 'X509Certificate', 'KeyObject'],
  ...['Cipher', 'Cipheriv', 'Decipher', 'Decipheriv', 'DiffieHellman', 'DiffieHellmanGroup', 'ECDH', 'Hash', 'Hmac', 'Sign', 'Verify'],
];
