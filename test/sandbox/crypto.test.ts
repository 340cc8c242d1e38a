import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { cryptoOps } from '../../src/sandbox/bridge/crypto.ts';
import type { Execution } from '../../src/sandbox/execution.ts';
import { DEFAULT_LIMITS } from '../../src/sandbox/index.ts';
import { createHarness, type Harness, valueOf } from './attack-harness.ts';

/** Parts of Node's crypto a script does not get: each is a clear ERR_FERRY_NOT_AVAILABLE. */
const NOT_OFFERED = [
  'createCipheriv',
  'createDecipheriv',
  'createSign',
  'sign',
  'verify',
  'generateKeyPairSync',
  'publicEncrypt',
  'createECDH',
  'randomInt',
  'hkdfSync',
  'KeyObject',
  'getCiphers',
];

const ALGORITHMS = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'];
const COST = 'ERR_FERRY_CRYPTO_COST';

/** The same update chain in Node: every input kind the shim turns into bytes. */
function chain<T extends crypto.Hash | crypto.Hmac>(hash: T): T {
  hash.update('pässwörd').update('73616c74', 'hex').update('c2FsdA==', 'base64').update('\u00e9\u00ff', 'latin1');
  hash
    .update(Buffer.from([1, 2, 3]))
    .update(new Uint8Array([250, 251]))
    .update(new DataView(new Uint8Array([9, 8, 7]).buffer, 1));
  return hash;
}
const CHAIN_IN_SCRIPT = `(hash) => hash.update('pässwörd').update('73616c74', 'hex').update('c2FsdA==', 'base64').update('\\u00e9\\u00ff', 'latin1')
  .update(Buffer.from([1, 2, 3])).update(new Uint8Array([250, 251])).update(new DataView(new Uint8Array([9, 8, 7]).buffer, 1))`;

describe("require('crypto') in scripts", () => {
  let harness: Harness;
  before(async () => {
    harness = await createHarness();
  });
  after(async () => harness.close());
  const run = async (source: string, args: unknown[] = [], limits = {}) => valueOf<Record<string, unknown>>(await harness.run(source, { args, limits }));

  test('createHash and createHmac give what node:crypto gives, for each algorithm, update chain and digest encoding', async () => {
    const got = await run(
      `async function main(algorithms) {
        const crypto = require('crypto');
        const chain = ${CHAIN_IN_SCRIPT};
        const longKey = 'k'.repeat(200);
        const out = {};
        for (const alg of algorithms) {
          const hash = chain(crypto.createHash(alg));
          const copy = hash.copy();
          out[alg] = {
            hex: chain(crypto.createHash(alg)).digest('hex'),
            base64: chain(crypto.createHash(alg)).digest('base64'),
            latin1: chain(crypto.createHash(alg)).digest('latin1'),
            binary: chain(crypto.createHash(alg)).digest('binary'),
            buffer: Buffer.isBuffer(hash.digest()) && copy.update('more').digest().toString('hex'),
            upperCase: crypto.createHash(alg.toUpperCase()).update('x').digest('hex'),
            empty: crypto.createHash(alg).digest('hex'),
            hmacText: chain(crypto.createHmac(alg, 'sekrit')).digest('hex'),
            hmacBytes: chain(crypto.createHmac(alg, Buffer.from('00ff10', 'hex'))).digest('base64'),
            hmacLongKey: crypto.createHmac(alg, longKey).update('x').digest('latin1'),
            hmacBuffer: Buffer.isBuffer(crypto.createHmac(alg, 'k').digest()) && crypto.createHmac(alg, new Uint8Array([1, 2])).update('x').digest().toString('hex'),
          };
        }
        return out;
      }`,
      [ALGORITHMS],
    );
    for (const alg of ALGORITHMS) {
      const copy = chain(crypto.createHash(alg)).copy().update('more');
      assert.deepEqual(got[alg], {
        hex: chain(crypto.createHash(alg)).digest('hex'),
        base64: chain(crypto.createHash(alg)).digest('base64'),
        latin1: chain(crypto.createHash(alg)).digest().toString('latin1'),
        binary: chain(crypto.createHash(alg)).digest('binary'),
        buffer: copy.digest('hex'),
        upperCase: crypto.createHash(alg).update('x').digest('hex'),
        empty: crypto.createHash(alg).digest('hex'),
        hmacText: chain(crypto.createHmac(alg, 'sekrit')).digest('hex'),
        hmacBytes: chain(crypto.createHmac(alg, Buffer.from('00ff10', 'hex'))).digest('base64'),
        hmacLongKey: crypto.createHmac(alg, 'k'.repeat(200)).update('x').digest().toString('latin1'),
        hmacBuffer: crypto
          .createHmac(alg, Buffer.from([1, 2]))
          .update('x')
          .digest('hex'),
      });
    }
  });

  test('pbkdf2 and scrypt give what node:crypto gives, with a callback, Sync, and through util.promisify', async () => {
    const got = await run(`async function main() {
      const crypto = require('crypto');
      const { promisify } = require('util');
      const viaCallback = (fn, ...args) => new Promise((resolve, reject) => fn(...args, (error, key) => (error ? reject(error) : resolve(key))));
      const hex = (key) => (Buffer.isBuffer(key) ? key.toString('hex') : 'not a Buffer');
      const salt = Buffer.from('5a17', 'hex');
      return {
        pbkdf2Sha1: hex(await viaCallback(crypto.pbkdf2, 'pw', 'salt', 1000, 40, 'sha1')),
        pbkdf2Sha256: hex(crypto.pbkdf2Sync('pässwörd', salt, 1200, 32, 'sha256')),
        pbkdf2Sha512: hex(await promisify(crypto.pbkdf2)(Buffer.from('pw'), new Uint8Array([1, 2, 3]), 500, 64, 'sha512')),
        pbkdf2Upper: hex(crypto.pbkdf2Sync('pw', 'salt', 10, 20, 'SHA1')),
        scryptDefault: hex(crypto.scryptSync('pw', 'salt', 32)),
        scryptOptions: hex(await viaCallback(crypto.scrypt, 'pw', salt, 16, { N: 1024, r: 4, p: 2 })),
        scryptLongNames: hex(await promisify(crypto.scrypt)('pw', 'salt', 24, { cost: 2048, blockSize: 8, parallelization: 1 })),
        scryptNoOptions: hex(await viaCallback(crypto.scrypt, 'pw', 'salt', 16)),
      };
    }`);
    const salt = Buffer.from('5a17', 'hex');
    assert.deepEqual(got, {
      pbkdf2Sha1: crypto.pbkdf2Sync('pw', 'salt', 1000, 40, 'sha1').toString('hex'),
      pbkdf2Sha256: crypto.pbkdf2Sync('pässwörd', salt, 1200, 32, 'sha256').toString('hex'),
      pbkdf2Sha512: crypto.pbkdf2Sync('pw', Buffer.from([1, 2, 3]), 500, 64, 'sha512').toString('hex'),
      pbkdf2Upper: crypto.pbkdf2Sync('pw', 'salt', 10, 20, 'sha1').toString('hex'),
      scryptDefault: crypto.scryptSync('pw', 'salt', 32).toString('hex'),
      scryptOptions: crypto.scryptSync('pw', salt, 16, { N: 1024, r: 4, p: 2 }).toString('hex'),
      scryptLongNames: crypto.scryptSync('pw', 'salt', 24, { N: 2048, r: 8, p: 1 }).toString('hex'),
      scryptNoOptions: crypto.scryptSync('pw', 'salt', 16).toString('hex'),
    });
  });

  test('randomBytes, randomUUID, timingSafeEqual, getHashes, subtle.digest and util.promisify', async () => {
    const got = await run(`async function main() {
      const crypto = require('crypto');
      const util = require('util');
      const sync = crypto.randomBytes(16);
      const viaCallback = await new Promise((resolve, reject) => crypto.randomBytes(8, (error, bytes) => (error ? reject(error) : resolve(bytes))));
      const viaPromise = await util.promisify(crypto.randomBytes)(4);
      const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc'));
      const digest512 = await crypto.webcrypto.subtle.digest({ name: 'SHA-512' }, Buffer.from('abc'));
      return {
        sizes: [sync.length, viaCallback.length, viaPromise.length, crypto.randomBytes(0).length],
        buffers: [sync, viaCallback, viaPromise].every(Buffer.isBuffer),
        differ: sync.toString('hex') !== crypto.randomBytes(16).toString('hex'),
        uuid: crypto.randomUUID(),
        equal: crypto.timingSafeEqual(Buffer.from('abc'), new Uint8Array([97, 98, 99])),
        unequal: crypto.timingSafeEqual(Buffer.from('abc'), Buffer.from('abd')),
        hashes: crypto.getHashes(),
        digest: digest instanceof ArrayBuffer && Buffer.from(digest).toString('hex'),
        digest512: Buffer.from(digest512).toString('base64'),
        custom: util.promisify.custom === Symbol.for('nodejs.util.promisify.custom'),
        callbackified: await new Promise((resolve) => util.callbackify(async (x) => x * 2)(21, (error, value) => resolve([error, value]))),
      };
    }`);
    assert.equal(typeof got.uuid, 'string');
    assert.match(got.uuid as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    delete got.uuid;
    assert.deepEqual(got, {
      sizes: [16, 8, 4, 0],
      buffers: true,
      differ: true,
      equal: true,
      unequal: false,
      hashes: ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'],
      digest: crypto.createHash('sha256').update('abc').digest('hex'),
      digest512: crypto.createHash('sha512').update('abc').digest('base64'),
      custom: true,
      callbackified: [null, 42],
    });
  });

  const ATTEMPT = `async function attempt(out, name, fn) {
    try { const value = await fn(); out[name] = value === undefined ? 'undefined' : 'ok'; }
    catch (error) { out[name] = String(error.code); (out.messages ||= {})[name] = error.name + ': ' + error.message; }
  }`;
  const codes = (value: Record<string, unknown>) => Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'messages'));
  const messages = (value: Record<string, unknown>) => (value.messages ?? {}) as Record<string, string>;

  test('costs over the default caps are refused with ERR_FERRY_CRYPTO_COST, naming the limit, before any work', async () => {
    const outcome = await harness.attack(
      `${ATTEMPT}
      async function main() {
        const crypto = require('crypto');
        const { promisify } = require('util');
        const out = {};
        await attempt(out, 'pbkdf2Sync sha256', () => crypto.pbkdf2Sync('pw', 'salt', 2000001, 32, 'sha256'));
        await attempt(out, 'pbkdf2 callback', () => promisify(crypto.pbkdf2)('pw', 'salt', 1e9, 32, 'sha256'));
        await attempt(out, 'pbkdf2 sha512 weighs 3', () => crypto.pbkdf2Sync('pw', 'salt', 666667, 64, 'sha512'));
        await attempt(out, 'pbkdf2 two output blocks', () => crypto.pbkdf2Sync('pw', 'salt', 1000001, 21, 'sha1'));
        await attempt(out, 'scryptSync N', () => crypto.scryptSync('pw', 'salt', 32, { N: 131072, r: 8 }));
        await attempt(out, 'scrypt p', () => promisify(crypto.scrypt)('pw', 'salt', 32, { N: 16384, r: 8, p: 5 }));
        await attempt(out, 'randomBytes', () => crypto.randomBytes(4097));
        await attempt(out, 'pbkdf2 keylen', () => crypto.pbkdf2Sync('pw', 'salt', 1, 4097, 'sha1'));
        await attempt(out, 'update size', () => crypto.createHash('sha1').update(Buffer.alloc(600 * 1024)).update(Buffer.alloc(500 * 1024)));
        await attempt(out, 'at the caps', async () => { crypto.randomBytes(4096); crypto.createHash('md5').update(Buffer.alloc(1024 * 1024)).digest(); return 1; });
        return out;
      }`,
      { expect: true },
    );
    const got = valueOf<Record<string, unknown>>(outcome);
    assert.deepEqual(codes(got), {
      'pbkdf2Sync sha256': COST,
      'pbkdf2 callback': COST,
      'pbkdf2 sha512 weighs 3': COST,
      'pbkdf2 two output blocks': COST,
      'scryptSync N': COST,
      'scrypt p': COST,
      randomBytes: COST,
      'pbkdf2 keylen': COST,
      'update size': COST,
      'at the caps': 'ok',
    });
    const said = messages(got);
    assert.equal(
      said['pbkdf2Sync sha256'],
      "RangeError: pbkdf2's iterations × output blocks × digest weight is 2000001, over the limit of 2000000 (connection.limits.maxPbkdf2Iterations).",
    );
    assert.match(said['pbkdf2 sha512 weighs 3']!, /is 2000001, over/);
    assert.match(said['pbkdf2 two output blocks']!, /is 2000002, over/);
    assert.equal(said['scryptSync N'], "RangeError: scrypt's 128·N·r·p is 128 MiB, over the limit of 64 MiB (connection.limits.maxScryptMemoryMb).");
    assert.match(said['scrypt p']!, /is 80 MiB, over the limit of 64 MiB/);
    assert.match(said.randomBytes!, /The size is 4097 bytes, over the limit of 4096 bytes \(connection\.limits\.maxCryptoOutputBytes\)/);
    assert.match(said['update size']!, /The data hashed is over the limit of 1024 KiB \(connection\.limits\.maxCryptoInputKb\)/);
  });

  test('lowered limits are the caps: at the cap passes, one more is refused', async () => {
    const limits = { maxPbkdf2Iterations: 1000, maxScryptMemoryMb: 1, maxCryptoOutputBytes: 16, maxCryptoInputKb: 1 };
    const outcome = await harness.attack(
      `${ATTEMPT}
      async function main() {
        const crypto = require('crypto');
        const out = {};
        const kb = Buffer.alloc(1024);
        await attempt(out, 'pbkdf2 at cap', () => crypto.pbkdf2Sync('pw', 'salt', 1000, 16, 'sha256'));
        await attempt(out, 'pbkdf2 over', () => crypto.pbkdf2Sync('pw', 'salt', 1001, 16, 'sha256'));
        await attempt(out, 'pbkdf2 sha512 at cap', () => crypto.pbkdf2Sync('pw', 'salt', 333, 16, 'sha512'));
        await attempt(out, 'pbkdf2 sha512 over', () => crypto.pbkdf2Sync('pw', 'salt', 334, 16, 'sha512'));
        await attempt(out, 'scrypt at cap', () => crypto.scryptSync('pw', 'salt', 16, { N: 1024, r: 8, p: 1 }));
        await attempt(out, 'scrypt over', () => crypto.scryptSync('pw', 'salt', 16, { N: 1024, r: 8, p: 2 }));
        await attempt(out, 'keylen over', () => crypto.scryptSync('pw', 'salt', 17, { N: 16, r: 1 }));
        await attempt(out, 'randomBytes at cap', () => crypto.randomBytes(16));
        await attempt(out, 'randomBytes over', () => crypto.randomBytes(17));
        await attempt(out, 'update at cap', () => crypto.createHash('sha1').update(kb).digest());
        await attempt(out, 'update over', () => crypto.createHash('sha1').update(kb).update('x'));
        await attempt(out, 'hmac key over', () => crypto.createHmac('sha1', Buffer.alloc(1025)));
        await attempt(out, 'password over', () => crypto.pbkdf2Sync(Buffer.alloc(1025), 'salt', 1, 16, 'sha1'));
        await attempt(out, 'salt over', () => crypto.scryptSync('pw', 'x'.repeat(1025), 16, { N: 16, r: 1 }));
        return out;
      }`,
      { expect: true, limits },
    );
    assert.deepEqual(codes(valueOf(outcome)), {
      'pbkdf2 at cap': 'ok',
      'pbkdf2 over': COST,
      'pbkdf2 sha512 at cap': 'ok',
      'pbkdf2 sha512 over': COST,
      'scrypt at cap': 'ok',
      'scrypt over': COST,
      'keylen over': COST,
      'randomBytes at cap': 'ok',
      'randomBytes over': COST,
      'update at cap': 'ok',
      'update over': COST,
      'hmac key over': COST,
      'password over': COST,
      'salt over': COST,
    });
  });

  test('bad arguments are refused as Node refuses them, and the rest of crypto says it is not available', async () => {
    const outcome = await harness.attack(
      `${ATTEMPT}
      async function main(unsupported) {
        const crypto = require('crypto');
        const out = {};
        await attempt(out, 'unknown hash', () => crypto.createHash('whirlpool'));
        await attempt(out, 'unknown hmac', () => crypto.createHmac('sha3-256', 'k'));
        await attempt(out, 'hmac without key', () => crypto.createHmac('sha1'));
        await attempt(out, 'update number', () => crypto.createHash('sha1').update(5));
        await attempt(out, 'update object', () => crypto.createHash('sha1').update({ length: 3 }));
        await attempt(out, 'digest twice', () => { const h = crypto.createHash('sha1'); h.digest(); h.digest(); });
        await attempt(out, 'update after digest', () => { const h = crypto.createHmac('sha1', 'k'); h.digest(); h.update('x'); });
        await attempt(out, 'pbkdf2 no digest', () => crypto.pbkdf2Sync('pw', 'salt', 1, 16));
        await attempt(out, 'pbkdf2 no callback', () => crypto.pbkdf2('pw', 'salt', 1, 16, 'sha1'));
        await attempt(out, 'pbkdf2 zero iterations', () => crypto.pbkdf2Sync('pw', 'salt', 0, 16, 'sha1'));
        await attempt(out, 'pbkdf2 text iterations', () => crypto.pbkdf2Sync('pw', 'salt', '1000', 16, 'sha1'));
        await attempt(out, 'pbkdf2 fractional keylen', () => crypto.pbkdf2Sync('pw', 'salt', 1, 1.5, 'sha1'));
        await attempt(out, 'pbkdf2 number password', () => crypto.pbkdf2Sync(1234, 'salt', 1, 16, 'sha1'));
        await attempt(out, 'scrypt bad N', () => crypto.scryptSync('pw', 'salt', 16, { N: 3 }));
        await attempt(out, 'scrypt N and cost', () => crypto.scryptSync('pw', 'salt', 16, { N: 16, cost: 16 }));
        await attempt(out, 'timingSafeEqual lengths', () => crypto.timingSafeEqual(Buffer.from('a'), Buffer.from('ab')));
        await attempt(out, 'timingSafeEqual strings', () => crypto.timingSafeEqual('a', 'a'));
        await attempt(out, 'randomBytes text', () => crypto.randomBytes('8'));
        await attempt(out, 'randomBytes negative', () => crypto.randomBytes(-1));
        await attempt(out, 'subtle MD5', () => crypto.subtle.digest('MD5', new Uint8Array(1)));
        await attempt(out, 'subtle.encrypt', () => crypto.subtle.encrypt({ name: 'AES-GCM' }, null, new Uint8Array(1)));
        await attempt(out, 'constants', () => crypto.constants);
        for (const name of unsupported) await attempt(out, name, () => typeof crypto[name] === 'function' ? crypto[name]() : 'missing: ' + typeof crypto[name]);
        return out;
      }`,
      {
        expect: true,
        args: [NOT_OFFERED],
      },
    );
    const got = valueOf<Record<string, unknown>>(outcome);
    const said = messages(got);
    assert.deepEqual(codes(got), {
      'unknown hash': 'undefined',
      'unknown hmac': 'ERR_CRYPTO_INVALID_DIGEST',
      'hmac without key': 'ERR_INVALID_ARG_TYPE',
      'update number': 'ERR_INVALID_ARG_TYPE',
      'update object': 'ERR_INVALID_ARG_TYPE',
      'digest twice': 'ERR_CRYPTO_HASH_FINALIZED',
      'update after digest': 'ERR_CRYPTO_HASH_FINALIZED',
      'pbkdf2 no digest': 'ERR_INVALID_ARG_TYPE',
      'pbkdf2 no callback': 'ERR_INVALID_ARG_TYPE',
      'pbkdf2 zero iterations': 'ERR_OUT_OF_RANGE',
      'pbkdf2 text iterations': 'ERR_INVALID_ARG_TYPE',
      'pbkdf2 fractional keylen': 'ERR_INVALID_ARG_TYPE',
      'pbkdf2 number password': 'ERR_INVALID_ARG_TYPE',
      'scrypt bad N': 'ERR_CRYPTO_INVALID_SCRYPT_PARAMS',
      'scrypt N and cost': 'ERR_INCOMPATIBLE_OPTION_PAIR',
      'timingSafeEqual lengths': 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH',
      'timingSafeEqual strings': 'ERR_INVALID_ARG_TYPE',
      'randomBytes text': 'ERR_INVALID_ARG_TYPE',
      'randomBytes negative': 'ERR_OUT_OF_RANGE',
      'subtle MD5': 'ERR_FERRY_NOT_AVAILABLE',
      'subtle.encrypt': 'ERR_FERRY_NOT_AVAILABLE',
      constants: 'ERR_FERRY_NOT_AVAILABLE',
      ...Object.fromEntries(NOT_OFFERED.map((name) => [name, 'ERR_FERRY_NOT_AVAILABLE'])),
    });
    assert.match(said['unknown hash']!, /^Error: Digest method not supported: whirlpool \(Ferry scripts offer md5, sha1, sha224, sha256, sha384, sha512\)/);
    assert.match(said['timingSafeEqual lengths']!, /^RangeError: Input buffers must have the same byte length/);
    assert.equal(
      said.createCipheriv,
      'Error: crypto.createCipheriv is not available in Ferry scripts (they offer createHash, createHmac, pbkdf2, pbkdf2Sync, scrypt, scryptSync, timingSafeEqual, randomBytes, randomUUID, getHashes, subtle.digest).',
    );
  });

  test('the host checks every argument itself, whatever the isolate sends', () => {
    const ops = cryptoOps();
    const execution = { limits: DEFAULT_LIMITS } as unknown as Execution;
    const refused = (name: keyof typeof ops, args: unknown[]) => {
      try {
        const value = ops[name]!.handler(execution, args);
        return value instanceof Promise
          ? value.then(
              () => 'ok',
              (error) => error.code,
            )
          : 'ok';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    assert.equal(refused('crypto.digest', ['sha1', 'text, not bytes']), 'ERR_INVALID_ARG_TYPE');
    assert.equal(refused('crypto.digest', ['whirlpool', new Uint8Array(1)]), 'ERR_CRYPTO_INVALID_DIGEST');
    assert.equal(refused('crypto.digest', ['sha1', new Uint8Array(1024 * 1024 + 1)]), COST);
    assert.equal(refused('crypto.digest', ['sha1', new Uint8Array(1), { length: 1 }]), 'ERR_INVALID_ARG_TYPE');
    assert.equal(refused('crypto.randomBytes', [4097]), COST);
    assert.equal(refused('crypto.randomBytes', [2 ** 31]), COST);
    assert.equal(refused('crypto.timingSafeEqual', [new Uint8Array(1), new Uint8Array(2)]), 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH');
    return Promise.all([
      refused('crypto.pbkdf2', ['pw', new Uint8Array(1), 1, 16, 'sha1']),
      refused('crypto.pbkdf2', [new Uint8Array(1), new Uint8Array(1), 2_000_001, 16, 'sha1']),
      refused('crypto.scrypt', [new Uint8Array(1), new Uint8Array(1), 16, { N: 2 ** 20, r: 8 }]),
      refused('crypto.scrypt', [new Uint8Array(1), new Uint8Array(1), 16, { N: 'many' }]),
    ]).then((codes) => assert.deepEqual(codes, ['ERR_INVALID_ARG_TYPE', COST, COST, 'ERR_INVALID_ARG_TYPE']));
  });

  test("a pbkdf2Sync at the cap blocks only the script: Ferry's event loop keeps turning", async () => {
    let turns = 0;
    const ticker = setInterval(() => {
      turns += 1;
    }, 5);
    try {
      const started = performance.now();
      const outcome = await harness.run(`async function main() { return require('crypto').pbkdf2Sync('pw', 'salt', 2000000, 32, 'sha256').toString('hex'); }`, {
        limits: { timeoutMs: 20_000, cpuTimeMs: 1000 },
      });
      const elapsed = performance.now() - started;
      assert.equal(valueOf(outcome), crypto.pbkdf2Sync('pw', 'salt', 2_000_000, 32, 'sha256').toString('hex'));
      // Done on the event loop, the work would leave no turn at all while it ran (hundreds of ms).
      assert.ok(turns >= 10, `only ${turns} turns of a 5 ms interval in ${Math.round(elapsed)} ms`);
    } finally {
      clearInterval(ticker);
    }
  });
});
