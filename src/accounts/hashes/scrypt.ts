import { createCipheriv, scrypt, type ScryptOptions } from 'node:crypto';
import { bounded, fromBase64, HashProblem, sameBytes } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { LIMITS } from './limits.ts';

function derive(password: string | Buffer, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** N = 2^logN, r, p within LIMITS, as options for node's scrypt (whose own memory cap is lower). */
export function scryptOptions(logN: string | undefined, r: string | undefined, p: string | undefined): ScryptOptions {
  const cost = 2 ** bounded(logN, 'scrypt log2 N', 1, LIMITS.scryptLogN);
  const blockSize = bounded(r, 'scrypt block size r', 1, LIMITS.scryptR);
  const parallelization = bounded(p, 'scrypt parallelism p', 1, LIMITS.scryptP);
  const memory = 128 * cost * blockSize;
  if (memory > LIMITS.scryptMemoryBytes)
    throw new HashProblem(`The scrypt parameters need ${memory >> 20} MiB; Ferry accepts at most ${LIMITS.scryptMemoryBytes >> 20} MiB.`);
  return { N: cost, r: blockSize, p: parallelization, maxmem: memory + 1024 * 1024 };
}

/** passlib's and the PHC's `$scrypt$ln=16,r=8,p=1$salt$hash` (base64). */
export const scryptFormat: HashFormat = {
  name: 'scrypt',
  matches: (stored) => stored.startsWith('$scrypt$'),
  read(stored) {
    const match = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([^$]*)\$([^$]+)$/.exec(stored);
    if (!match) throw new HashProblem('The scrypt hash is malformed (expected $scrypt$ln=…,r=…,p=…$salt$hash).');
    const options = scryptOptions(match[1], match[2], match[3]);
    const salt = fromBase64(match[4]!, 'scrypt salt');
    const expected = fromBase64(match[5]!, 'scrypt hash');
    if (expected.length < 16 || expected.length > 128) throw new HashProblem('The scrypt hash has an unexpected length.');
    return async (password) => sameBytes(await derive(password, salt, expected.length, options), expected);
  },
};

export interface FirebaseScrypt {
  hash: string;
  salt: string;
  /** The project's parameters from Firebase's console (Authentication → Users → Password hash parameters). */
  signerKey: string;
  saltSeparator: string;
  rounds: number;
  memCost: number;
}

/**
 * Firebase's modified scrypt: the key derived from the password and salt‖separator (N = 2^memCost,
 * r = rounds, p = 1) encrypts the project's signer key with AES-256-CTR and a zero IV.
 */
export function firebaseVerifier(declared: FirebaseScrypt) {
  const options = scryptOptions(String(declared.memCost), String(declared.rounds), '1');
  const salt = Buffer.concat([fromBase64(declared.salt, 'Firebase salt'), fromBase64(declared.saltSeparator, 'Firebase salt separator')]);
  const signerKey = fromBase64(declared.signerKey, 'Firebase signer key');
  const expected = fromBase64(declared.hash, 'Firebase hash');
  if (signerKey.length === 0 || expected.length !== signerKey.length) throw new HashProblem('The Firebase hash must be as long as the signer key.');
  return async (password: string) => {
    const key = await derive(Buffer.from(password, 'utf8'), salt, 32, options);
    const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
    return sameBytes(Buffer.concat([cipher.update(signerKey), cipher.final()]), expected);
  };
}
