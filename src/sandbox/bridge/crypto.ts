import { createHash, createHmac, pbkdf2, randomBytes, randomUUID, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Execution } from '../execution.ts';
import type { Limits } from '../limits.ts';
import { integer, optionalRecord, string } from './args.ts';
import { ScriptFacingError } from './errors.ts';
import { op, syncOp, type OpGroup } from './types.ts';

/**
 * The digests scripts may use, with their output size and their PBKDF2 weight: SHA-384 and
 * SHA-512 work on 128-byte blocks and took 2.7 times SHA-256's time per iteration here, so an
 * iteration of theirs counts 3 against maxPbkdf2Iterations.
 */
const DIGESTS: Record<string, { size: number; weight: number }> = {
  md5: { size: 16, weight: 1 },
  sha1: { size: 20, weight: 1 },
  sha224: { size: 28, weight: 1 },
  sha256: { size: 32, weight: 1 },
  sha384: { size: 48, weight: 3 },
  sha512: { size: 64, weight: 3 },
};
/** Node's own default for scrypt's maxmem. */
const SCRYPT_DEFAULT_MAXMEM = 32 * 1024 * 1024;
const MiB = 1024 * 1024;

const pbkdf2Async = promisify(pbkdf2);
const scryptAsync = promisify(scrypt) as (password: Buffer, salt: Buffer, keylen: number, options: object) => Promise<Buffer>;

class CryptoArgumentError extends ScriptFacingError {
  override readonly name: string;
  constructor(message: string, code: string, name: 'TypeError' | 'RangeError' = 'TypeError') {
    super(message, code);
    this.name = name;
  }
}

function overCost(what: string, limit: keyof Limits, value: number | string, cap: number, unit = ''): never {
  throw new CryptoArgumentError(
    `${what} is ${value}${unit}, over the limit of ${cap}${unit} (connection.limits.${limit}).`,
    'ERR_FERRY_CRYPTO_COST',
    'RangeError',
  );
}

function digestName(value: unknown): string {
  const name = string(value, 'digest').toLowerCase();
  if (!Object.hasOwn(DIGESTS, name)) throw new CryptoArgumentError(`Invalid digest: ${value}`, 'ERR_CRYPTO_INVALID_DIGEST');
  return name;
}

/** Bytes the isolate sent (its shim turns strings into bytes first), at most maxCryptoInputKb. */
function bytes(execution: Execution, value: unknown, what: string): Buffer {
  if (!(value instanceof Uint8Array)) throw new CryptoArgumentError(`The "${what}" argument must be bytes`, 'ERR_INVALID_ARG_TYPE');
  const cap = execution.limits.maxCryptoInputKb * 1024;
  if (value.byteLength > cap) overCost(`The ${what}`, 'maxCryptoInputKb', value.byteLength, cap, ' bytes');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function outputSize(execution: Execution, value: unknown, what: string): number {
  const size = integer(value, what);
  if (size < 0) throw new CryptoArgumentError(`The value of "${what}" is out of range. It must be >= 0. Received ${size}`, 'ERR_OUT_OF_RANGE', 'RangeError');
  if (size > execution.limits.maxCryptoOutputBytes) overCost(`The ${what}`, 'maxCryptoOutputBytes', size, execution.limits.maxCryptoOutputBytes, ' bytes');
  return size;
}

/** A copy with its own ArrayBuffer: a pooled Buffer's view would carry its neighbours across. */
const own = (buffer: Buffer) => new Uint8Array(buffer);

function scryptOptions(execution: Execution, value: unknown) {
  const options = optionalRecord(value, 'options');
  const pick = (long: string, short: string, fallback: number) => {
    if (options[long] !== undefined && options[short] !== undefined)
      throw new CryptoArgumentError(`Only one of "${long}" and "${short}" may be given`, 'ERR_INCOMPATIBLE_OPTION_PAIR');
    const chosen = options[long] ?? options[short];
    return chosen === undefined ? fallback : integer(chosen, short);
  };
  const N = pick('cost', 'N', 16384);
  const r = pick('blockSize', 'r', 8);
  const p = pick('parallelization', 'p', 1);
  const maxmem = options.maxmem === undefined ? SCRYPT_DEFAULT_MAXMEM : integer(options.maxmem, 'maxmem');
  if (N < 2 || r < 1 || p < 1) throw new CryptoArgumentError('Invalid scrypt params', 'ERR_CRYPTO_INVALID_SCRYPT_PARAMS', 'RangeError');
  // 128·N·r bytes of memory, and as many block mixes p times over: the product bounds both.
  const work = 128 * N * r * p;
  if (work > execution.limits.maxScryptMemoryMb * MiB)
    overCost("scrypt's 128·N·r·p", 'maxScryptMemoryMb', +(work / MiB).toFixed(1), execution.limits.maxScryptMemoryMb, ' MiB');
  return { N, r, p, maxmem };
}

/** Host operations behind the isolate's `crypto`: node:crypto, with every cost capped before any work. */
export function cryptoOps(): OpGroup<'crypto'> {
  return {
    'crypto.digest': syncOp((execution, [algorithm, data, key]) => {
      const name = digestName(algorithm);
      const input = bytes(execution, data, 'data');
      const hash = key === undefined ? createHash(name) : createHmac(name, bytes(execution, key, 'key'));
      return own(hash.update(input).digest());
    }),
    'crypto.pbkdf2': op(async (execution, [password, salt, iterations, keylen, digest]) => {
      const name = digestName(digest);
      const rounds = integer(iterations, 'iterations');
      if (rounds < 1)
        throw new CryptoArgumentError(`The value of "iterations" is out of range. It must be >= 1. Received ${rounds}`, 'ERR_OUT_OF_RANGE', 'RangeError');
      const length = outputSize(execution, keylen, 'keylen');
      const { size, weight } = DIGESTS[name] as { size: number; weight: number };
      const cost = rounds * Math.max(1, Math.ceil(length / size)) * weight;
      if (cost > execution.limits.maxPbkdf2Iterations)
        overCost("pbkdf2's iterations × output blocks × digest weight", 'maxPbkdf2Iterations', cost, execution.limits.maxPbkdf2Iterations);
      return own(await pbkdf2Async(bytes(execution, password, 'password'), bytes(execution, salt, 'salt'), rounds, length, name));
    }),
    'crypto.scrypt': op(async (execution, [password, salt, keylen, options]) => {
      const length = outputSize(execution, keylen, 'keylen');
      const params = scryptOptions(execution, options);
      return own(await scryptAsync(bytes(execution, password, 'password'), bytes(execution, salt, 'salt'), length, params));
    }),
    'crypto.randomBytes': syncOp((execution, [size]) => own(randomBytes(outputSize(execution, size, 'size')))),
    'crypto.randomUUID': syncOp(() => randomUUID()),
    'crypto.timingSafeEqual': syncOp((execution, [a, b]) => {
      const left = bytes(execution, a, 'buf1');
      const right = bytes(execution, b, 'buf2');
      if (left.byteLength !== right.byteLength)
        throw new CryptoArgumentError('Input buffers must have the same byte length', 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'RangeError');
      return timingSafeEqual(left, right);
    }),
  };
}
