import { createHash } from 'node:crypto';
import { fromBase64, HashProblem, sameBytes } from './encoding.ts';
import type { HashFormat } from './format.ts';

const SCHEMES: Record<string, { algorithm: string; salted: boolean }> = {
  MD5: { algorithm: 'md5', salted: false },
  SMD5: { algorithm: 'md5', salted: true },
  SHA: { algorithm: 'sha1', salted: false },
  SSHA: { algorithm: 'sha1', salted: true },
  SHA256: { algorithm: 'sha256', salted: false },
  SSHA256: { algorithm: 'sha256', salted: true },
  SHA512: { algorithm: 'sha512', salted: false },
  SSHA512: { algorithm: 'sha512', salted: true },
};
const SIZES: Record<string, number> = { md5: 16, sha1: 20, sha256: 32, sha512: 64 };

/** LDAP's RFC 2307 schemes: `{SHA}`, `{SSHA}` (digest‖salt), `{SSHA256}`, `{SSHA512}`, `{MD5}`, `{SMD5}`. */
export const ldapFormat: HashFormat = {
  name: 'ldap',
  matches: (stored) => /^\{S?(MD5|SHA|SHA256|SHA512)\}/i.test(stored),
  read(stored) {
    const match = /^\{([A-Za-z0-9]+)\}(.+)$/.exec(stored);
    const scheme = SCHEMES[match?.[1]?.toUpperCase() ?? ''];
    if (!match || !scheme) throw new HashProblem('The LDAP hash is malformed (expected {SSHA}base64).');
    const bytes = fromBase64(match[2]!, 'LDAP hash');
    const size = SIZES[scheme.algorithm]!;
    if (scheme.salted ? bytes.length <= size : bytes.length !== size) throw new HashProblem(`The {${match[1]}} hash has the wrong length.`);
    const expected = bytes.subarray(0, size);
    const salt = bytes.subarray(size);
    return async (password) => sameBytes(createHash(scheme.algorithm).update(password, 'utf8').update(salt).digest(), expected);
  },
};
