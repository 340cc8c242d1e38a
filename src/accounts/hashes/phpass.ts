import { createHash } from 'node:crypto';
import { HashProblem, ITOA64, sameBytes, yieldTurn } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { LIMITS } from './limits.ts';

const TURN = 4096;

/** phpass's own base64 (little-endian groups), written for `count` bytes. */
function encode64(input: Buffer, count: number): string {
  let out = '';
  let i = 0;
  while (i < count) {
    let value = input[i++]!;
    out += ITOA64[value & 0x3f];
    if (i < count) value |= input[i]! << 8;
    out += ITOA64[(value >> 6) & 0x3f];
    if (i++ >= count) break;
    if (i < count) value |= input[i]! << 16;
    out += ITOA64[(value >> 12) & 0x3f];
    if (i++ >= count) break;
    out += ITOA64[(value >> 18) & 0x3f];
  }
  return out;
}

/**
 * phpass portable hashes: `$P$` (WordPress), `$H$` (phpBB3) — iterated MD5 — and Drupal 7's `$S$`
 * (iterated SHA-512, cut to 55 characters). The fourth character is log2 of the iterations.
 */
export const phpassFormat: HashFormat = {
  name: 'phpass',
  matches: (stored) => /^\$[PHS]\$/.test(stored),
  read(stored) {
    const drupal = stored.startsWith('$S$');
    const match = /^\$[PHS]\$([./0-9A-Za-z])([./0-9A-Za-z]{8})([./0-9A-Za-z]+)$/.exec(stored);
    if (!match || stored.length !== (drupal ? 55 : 34)) throw new HashProblem('The phpass hash is malformed (expected $P$ and 31 characters).');
    const log2 = ITOA64.indexOf(match[1]!);
    if (log2 < 7 || log2 > LIMITS.phpassLog2) throw new HashProblem(`The phpass iteration count is 2^${log2}; Ferry accepts 2^7 to 2^${LIMITS.phpassLog2}.`);
    const algorithm = drupal ? 'sha512' : 'md5';
    const salt = Buffer.from(match[2]!);
    const expected = Buffer.from(stored);
    return async (password) => {
      const secret = Buffer.from(password, 'utf8');
      let digest = createHash(algorithm).update(salt).update(secret).digest();
      for (let round = 1 << log2; round > 0; round -= 1) {
        digest = createHash(algorithm).update(digest).update(secret).digest();
        if (round % TURN === 0) await yieldTurn();
      }
      const computed = (stored.slice(0, 12) + encode64(digest, digest.length)).slice(0, stored.length);
      return sameBytes(Buffer.from(computed), expected);
    };
  },
};
