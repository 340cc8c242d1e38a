import { pbkdf2 } from 'node:crypto';
import { promisify } from 'node:util';
import { bounded, fromBase64, HashProblem, sameBytes } from './encoding.ts';
import type { HashFormat, Verifier } from './format.ts';
import { LIMITS } from './limits.ts';

const derive = promisify(pbkdf2);
const DIGESTS: Record<string, string> = { sha1: 'sha1', sha256: 'sha256', sha512: 'sha512' };

/** PBKDF2 runs in libuv's thread pool, off the event loop. */
function pbkdf2Verifier(digest: string, iterations: number, salt: Buffer, expected: Buffer): Verifier {
  if (expected.length < 16 || expected.length > 128) throw new HashProblem(`The PBKDF2 hash is ${expected.length} bytes; 16 to 128 are expected.`);
  return async (password) => sameBytes(await derive(password, salt, iterations, expected.length, digest), expected);
}

const iterationsOf = (raw: string | undefined) => bounded(raw, 'PBKDF2 iteration count', 1, LIMITS.pbkdf2Iterations);

/** passlib's `$pbkdf2-sha256$29000$salt$hash` (adapted base64; `$pbkdf2$` is SHA-1), and the PHC `i=` spelling. */
export const phcPbkdf2Format: HashFormat = {
  name: 'pbkdf2 (PHC / passlib)',
  matches: (stored) => /^\$pbkdf2(-sha(1|256|512))?\$/.test(stored),
  read(stored) {
    const [, scheme = '', rounds, salt, hash, extra] = stored.split('$');
    if (hash === undefined || salt === undefined || extra !== undefined)
      throw new HashProblem('The PBKDF2 hash is malformed (expected $pbkdf2-sha256$rounds$salt$hash).');
    const digest = DIGESTS[scheme.replace(/^pbkdf2-?/, '') || 'sha1']!;
    return pbkdf2Verifier(digest, iterationsOf(rounds?.replace(/^i=/, '')), fromBase64(salt, 'PBKDF2 salt'), fromBase64(hash, 'PBKDF2 hash'));
  },
};

/** Django's `pbkdf2_sha256$iterations$salt$hash` and `pbkdf2_sha1$…` (the salt is used as text). */
export const djangoPbkdf2Format: HashFormat = {
  name: 'django-pbkdf2',
  matches: (stored) => /^pbkdf2_sha(1|256)\$/.test(stored),
  read(stored) {
    const [scheme = '', iterations, salt, hash, extra] = stored.split('$');
    if (!salt || !hash || extra !== undefined) throw new HashProblem('The Django PBKDF2 hash is malformed (expected pbkdf2_sha256$iterations$salt$hash).');
    return pbkdf2Verifier(scheme.slice('pbkdf2_'.length), iterationsOf(iterations), Buffer.from(salt, 'utf8'), fromBase64(hash, 'PBKDF2 hash'));
  },
};

const ASPNET_PRF = ['sha1', 'sha256', 'sha512'];

/** Decodes an ASP.NET Identity hash, or undefined when the string is not one. */
function aspNetParts(stored: string): { digest: string; iterations: number; salt: Buffer; subkey: Buffer } | undefined {
  if (!/^[A-Za-z0-9+/]{60,400}={0,2}$/.test(stored)) return undefined;
  const bytes = Buffer.from(stored, 'base64');
  // v2 (Identity 2, ASP.NET Membership's successor): 0x00, 16 bytes of salt, 32 of PBKDF2-SHA1 × 1000.
  if (bytes[0] === 0x00 && bytes.length === 49) return { digest: 'sha1', iterations: 1000, salt: bytes.subarray(1, 17), subkey: bytes.subarray(17) };
  // v3 (Identity Core): 0x01, PRF, iterations, salt length (big-endian uint32 each), salt, subkey.
  if (bytes[0] === 0x01 && bytes.length >= 13) {
    const prf = bytes.readUInt32BE(1);
    const saltLength = bytes.readUInt32BE(9);
    if (ASPNET_PRF[prf] === undefined || saltLength < 8 || 13 + saltLength + 16 > bytes.length) return undefined;
    return { digest: ASPNET_PRF[prf]!, iterations: bytes.readUInt32BE(5), salt: bytes.subarray(13, 13 + saltLength), subkey: bytes.subarray(13 + saltLength) };
  }
  return undefined;
}

/** ASP.NET Identity v2 and v3: base64 starting with a version byte. */
export const aspNetIdentityFormat: HashFormat = {
  name: 'aspnet-identity',
  matches: (stored) => aspNetParts(stored) !== undefined,
  read(stored) {
    const parts = aspNetParts(stored);
    if (!parts) throw new HashProblem('The ASP.NET Identity hash is malformed.');
    return pbkdf2Verifier(parts.digest, iterationsOf(String(parts.iterations)), parts.salt, parts.subkey);
  },
};
