import argon2 from 'argon2';
import { bounded, HashProblem } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { LIMITS } from './limits.ts';

const PHC = /^\$argon2(id|i|d)\$(?:v=(\d+)\$)?m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;

function readArgon2(hash: string): string {
  const match = PHC.exec(hash);
  if (!match) throw new HashProblem('The argon2 hash is malformed (expected $argon2id$v=19$m=…,t=…,p=…$salt$hash).');
  bounded(match[3], 'argon2 memory (m, KiB)', 8, LIMITS.argon2MemoryKiB);
  bounded(match[4], 'argon2 passes (t)', 1, LIMITS.argon2Passes);
  bounded(match[5], 'argon2 lanes (p)', 1, LIMITS.argon2Lanes);
  return hash;
}

/**
 * argon2id, argon2i and argon2d in PHC form (Ferry's own, PHP's password_hash, passlib, libsodium),
 * and Django's `argon2$argon2id$…`. Verified with the password as typed, like every legacy format.
 */
export const argon2Format: HashFormat = {
  name: 'argon2',
  matches: (stored) => /^(argon2)?\$argon2(id|i|d)\$/.test(stored),
  read(stored) {
    const hash = readArgon2(stored.startsWith('argon2$') ? stored.slice('argon2'.length) : stored);
    return (password) => argon2.verify(hash, password);
  },
};
