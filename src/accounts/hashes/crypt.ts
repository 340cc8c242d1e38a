import { createHash } from 'node:crypto';
import { bounded, cryptGroups, HashProblem, sameBytes, yieldTurn } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { LIMITS } from './limits.ts';

/** Rounds between two turns given to the event loop (a few milliseconds of hashing). */
const TURN = 4096;

const hash = (algorithm: string, ...parts: Buffer[]) => {
  const h = createHash(algorithm);
  for (const part of parts) h.update(part);
  return h.digest();
};

/** `length` bytes made of `block` repeated (the last copy cut short). */
const repeated = (block: Buffer, length: number) => Buffer.concat(Array.from({ length: Math.ceil(length / block.length) }, () => block)).subarray(0, length);

const SHA256_GROUPS = [
  [0, 10, 20],
  [21, 1, 11],
  [12, 22, 2],
  [3, 13, 23],
  [24, 4, 14],
  [15, 25, 5],
  [6, 16, 26],
  [27, 7, 17],
  [18, 28, 8],
  [9, 19, 29],
  [-1, 31, 30],
];
const SHA512_GROUPS = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
  [-1, -1, 63],
];
const MD5_GROUPS = [
  [0, 6, 12],
  [1, 7, 13],
  [2, 8, 14],
  [3, 9, 15],
  [4, 10, 5],
  [-1, -1, 11],
];

/** Ulrich Drepper's SHA-crypt (glibc's `$5$` and `$6$`), as its specification describes it step by step. */
async function shaCrypt(algorithm: 'sha256' | 'sha512', password: Buffer, salt: Buffer, rounds: number): Promise<string> {
  const size = algorithm === 'sha256' ? 32 : 64;
  const b = hash(algorithm, password, salt, password);
  const a = createHash(algorithm).update(password).update(salt).update(repeated(b, password.length));
  for (let length = password.length; length > 0; length >>= 1) a.update(length & 1 ? b : password);
  let c = a.digest();
  const p = repeated(hash(algorithm, ...Array.from({ length: password.length }, () => password)), password.length);
  const s = repeated(hash(algorithm, ...Array.from({ length: 16 + c[0]! }, () => salt)), salt.length);
  for (let round = 0; round < rounds; round += 1) {
    const h = createHash(algorithm).update(round & 1 ? p : c);
    if (round % 3) h.update(s);
    if (round % 7) h.update(p);
    c = h.update(round & 1 ? c : p).digest();
    if (round % TURN === TURN - 1) await yieldTurn();
  }
  return cryptGroups(c.subarray(0, size), algorithm === 'sha256' ? SHA256_GROUPS : SHA512_GROUPS);
}

/** `$5$rounds=N$salt$hash` (sha256-crypt) and `$6$…` (sha512-crypt): Linux /etc/shadow, passlib. */
export const shaCryptFormat: HashFormat = {
  name: 'sha-crypt',
  matches: (stored) => /^\$[56]\$/.test(stored),
  read(stored) {
    const match = /^\$([56])\$(?:rounds=(\d+)\$)?([^$]{0,16})\$([./0-9A-Za-z]+)$/.exec(stored);
    if (!match) throw new HashProblem('The SHA-crypt hash is malformed (expected $6$rounds=…$salt$hash).');
    const algorithm = match[1] === '5' ? 'sha256' : 'sha512';
    if (match[4]!.length !== (algorithm === 'sha256' ? 43 : 86)) throw new HashProblem('The SHA-crypt hash has the wrong length.');
    const rounds = match[2] === undefined ? 5000 : bounded(match[2], 'SHA-crypt rounds', 1000, LIMITS.shaCryptRounds);
    const salt = Buffer.from(match[3]!, 'latin1');
    const expected = Buffer.from(match[4]!);
    return async (password) => sameBytes(Buffer.from(await shaCrypt(algorithm, Buffer.from(password, 'utf8'), salt, rounds)), expected);
  },
};

/** Poul-Henning Kamp's md5-crypt (`$1$salt$hash`, 1000 rounds): old Linux, Cisco, Apache's `$apr1$`. */
async function md5Crypt(password: Buffer, salt: Buffer, magic: string): Promise<string> {
  const alternate = hash('md5', password, salt, password);
  const a = createHash('md5').update(password).update(magic).update(salt);
  for (let length = password.length; length > 0; length -= 16) a.update(alternate.subarray(0, Math.min(length, 16)));
  for (let length = password.length; length > 0; length >>= 1) a.update(length & 1 ? Buffer.alloc(1) : password.subarray(0, 1));
  let c = a.digest();
  for (let round = 0; round < 1000; round += 1) {
    const h = createHash('md5').update(round & 1 ? password : c);
    if (round % 3) h.update(salt);
    if (round % 7) h.update(password);
    c = h.update(round & 1 ? c : password).digest();
  }
  return cryptGroups(c, MD5_GROUPS);
}

export const md5CryptFormat: HashFormat = {
  name: 'md5-crypt',
  matches: (stored) => /^\$(1|apr1)\$/.test(stored),
  read(stored) {
    const match = /^\$(1|apr1)\$([^$]{0,8})\$([./0-9A-Za-z]{22})$/.exec(stored);
    if (!match) throw new HashProblem('The md5-crypt hash is malformed (expected $1$salt$hash).');
    const salt = Buffer.from(match[2]!, 'latin1');
    const expected = Buffer.from(match[3]!);
    return async (password) => sameBytes(Buffer.from(await md5Crypt(Buffer.from(password, 'utf8'), salt, `$${match[1]}$`)), expected);
  },
};
