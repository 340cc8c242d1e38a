import { createHash, createHmac } from 'node:crypto';
import bcrypt from 'bcrypt';
import { bounded, HashProblem } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { LIMITS } from './limits.ts';

/** bcrypt reads 72 bytes at most; Ferry never lets a longer password match (it would match its prefix). */
export const BCRYPT_MAX_BYTES = 72;
const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;

function readBcrypt(hash: string) {
  const cost = BCRYPT.exec(hash)?.[1];
  if (cost === undefined) throw new HashProblem('The bcrypt hash is malformed.');
  bounded(cost, 'bcrypt cost', 4, LIMITS.bcryptCost);
  // node's bcrypt knows $2a$ and $2b$; $2y$ (PHP) is the same algorithm under another name.
  return hash.replace(/^\$2y\$/, '$2b$');
}

/** `$2a$`, `$2b$`, `$2y$` (PHP's password_hash, Laravel, Spring, Rails…). */
export const bcryptFormat: HashFormat = {
  name: 'bcrypt',
  matches: (stored) => /^\$2[aby]\$/.test(stored),
  read(stored) {
    const hash = readBcrypt(stored);
    return async (password) => Buffer.byteLength(password) <= BCRYPT_MAX_BYTES && bcrypt.compare(password, hash);
  },
};

/** Django's `bcrypt$<bcrypt>` and `bcrypt_sha256$<bcrypt>` (bcrypt of the password's hex SHA-256). */
export const djangoBcryptFormat: HashFormat = {
  name: 'django-bcrypt',
  matches: (stored) => /^bcrypt(_sha256)?\$\$2[aby]\$/.test(stored),
  read(stored) {
    const prehash = stored.startsWith('bcrypt_sha256$');
    const hash = readBcrypt(stored.slice(stored.indexOf('$') + 1));
    return async (password) => {
      if (!prehash) return Buffer.byteLength(password) <= BCRYPT_MAX_BYTES && bcrypt.compare(password, hash);
      return bcrypt.compare(createHash('sha256').update(password).digest('hex'), hash);
    };
  },
};

/**
 * WordPress 6.8 and later: `$wp$2y$…`, bcrypt of the base64 HMAC-SHA384 of the password (key
 * "wp-sha384"), so that passwords over 72 bytes count in full.
 */
export const wordpressBcryptFormat: HashFormat = {
  name: 'wordpress-bcrypt',
  matches: (stored) => stored.startsWith('$wp$2'),
  read(stored) {
    const hash = readBcrypt(stored.slice('$wp'.length));
    return (password) => bcrypt.compare(createHmac('sha384', 'wp-sha384').update(password).digest('base64'), hash);
  },
};
