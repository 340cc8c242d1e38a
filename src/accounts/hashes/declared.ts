import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import { fromBase64, fromHex, HashProblem, sameBytes } from './encoding.ts';
import type { HashFormat } from './format.ts';
import { firebaseVerifier } from './scrypt.ts';

const text = z.string().min(1).max(1024);
const ORDERS = ['salt+password', 'password+salt', 'password'] as const;

/** A digest that does not describe itself (hex MD5/SHA from a PHP app…), with how it was made. */
const salted = z.strictObject({
  algorithm: z.enum(['md5', 'sha1', 'sha256', 'sha512', 'hmac-md5', 'hmac-sha1', 'hmac-sha256', 'hmac-sha512']),
  hash: text,
  salt: z.string().max(1024).optional(),
  encoding: z.enum(['hex', 'base64']).default('hex'),
  /** What was hashed; for hmac-* the salt is the key and the password the message. */
  order: z.enum(ORDERS).optional(),
  /** Another spelling of order: prefix = salt+password, suffix = password+salt. */
  saltPosition: z.enum(['prefix', 'suffix']).optional(),
});

const firebase = z.strictObject({
  algorithm: z.literal('firebase-scrypt'),
  hash: text,
  salt: text,
  signerKey: text,
  saltSeparator: z.string().max(64),
  rounds: z.number().int(),
  memCost: z.number().int(),
});

export const declaredHash = z.union([salted, firebase]);
export type DeclaredHash = z.input<typeof declaredHash>;

/** The stored form: canonical JSON with every default filled in (the salt position spelled as an order). */
export function canonicalDeclared(input: unknown): string {
  const parsed = declaredHash.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new HashProblem(`The declared hash is not valid: ${issue?.path.join('.') || 'value'}: ${issue?.message ?? 'invalid'}.`);
  }
  const value = parsed.data;
  if (value.algorithm === 'firebase-scrypt') {
    const { algorithm, hash, salt, signerKey, saltSeparator, rounds, memCost } = value;
    return JSON.stringify({ algorithm, hash, salt, signerKey, saltSeparator, rounds, memCost });
  }
  const { algorithm, hash, salt = '', encoding } = value;
  const order = value.order ?? (value.saltPosition === 'suffix' ? 'password+salt' : salt || value.saltPosition ? 'salt+password' : 'password');
  return JSON.stringify({ algorithm, hash, salt, encoding, order });
}

function saltedVerifier(value: z.output<typeof salted> & { order: (typeof ORDERS)[number] }) {
  const expected = value.encoding === 'hex' ? fromHex(value.hash, 'hash') : fromBase64(value.hash, 'hash');
  const salt = value.salt ?? '';
  if (value.algorithm.startsWith('hmac-')) {
    const algorithm = value.algorithm.slice('hmac-'.length);
    return async (password: string) => sameBytes(createHmac(algorithm, salt).update(password, 'utf8').digest(), expected);
  }
  return async (password: string) => {
    const message = value.order === 'salt+password' ? salt + password : value.order === 'password+salt' ? password + salt : password;
    return sameBytes(createHash(value.algorithm).update(message, 'utf8').digest(), expected);
  };
}

/** A declared hash as Ferry stores it (see canonicalDeclared). */
export const declaredFormat: HashFormat = {
  name: 'declared',
  matches: (stored) => stored.startsWith('{"'),
  read(stored) {
    let value: unknown;
    try {
      value = JSON.parse(stored);
    } catch {
      throw new HashProblem('The declared hash is not valid JSON.');
    }
    const canonical = JSON.parse(canonicalDeclared(value)) as { algorithm: string };
    if (canonical.algorithm === 'firebase-scrypt') return firebaseVerifier(canonical as z.output<typeof firebase>);
    return saltedVerifier(canonical as z.output<typeof salted> & { order: (typeof ORDERS)[number] });
  },
};

/** Django's old `md5$salt$hex`, `sha1$salt$hex` (digest of salt‖password) and `unsalted_sha1$$hex`. */
export const djangoSaltedFormat: HashFormat = {
  name: 'django-salted',
  matches: (stored) => /^(md5|sha1|unsalted_sha1)\$/.test(stored),
  read(stored) {
    const [scheme, salt = '', hash, extra] = stored.split('$');
    if (!hash || extra !== undefined) throw new HashProblem('The Django hash is malformed (expected sha1$salt$hex).');
    const algorithm = scheme === 'md5' ? 'md5' : 'sha1';
    const expected = fromHex(hash, 'Django hash');
    return async (password) =>
      sameBytes(
        createHash(algorithm)
          .update(salt + password, 'utf8')
          .digest(),
        expected,
      );
  },
};
