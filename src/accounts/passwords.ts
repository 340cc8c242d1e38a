import { availableParallelism } from 'node:os';
import { dictionary } from '@zxcvbn-ts/language-common';
import argon2 from 'argon2';
import { BadRequest } from '../errors.ts';
import { BCRYPT_MAX_BYTES, verifyLegacyHash } from './hashes/index.ts';

export { BCRYPT_MAX_BYTES };

/** OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane); operators may only raise it. */
export const ARGON2_DEFAULTS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
/** Long enough for any passphrase, short enough that hashing stays bounded. */
export const MAX_PASSWORD_LENGTH = 1024;

export interface PasswordPolicy {
  minLength: number;
}

/** Passwords are compared after Unicode NFKC normalisation, so the same characters always match. */
export function normalisePassword(password: string): string {
  return password.normalize('NFKC');
}

/** The weakest legacy bcrypt hash Ferry adopts for a migrated account (see src/connection/lazy-migration.ts). */
export const MIN_ADOPTED_BCRYPT_COST = 10;

export function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash);
}

/** Whether a bcrypt hash just verified for `password` may serve as a migrated account's verifier for now. */
export function adoptableBcryptHash(hash: string, password: string): boolean {
  const cost = Number(/^\$2[aby]\$(\d{2})\$/.exec(hash)?.[1]);
  return isBcryptHash(hash) && cost >= MIN_ADOPTED_BCRYPT_COST && Buffer.byteLength(password) <= BCRYPT_MAX_BYTES;
}

/** Ferry's own hashes: argon2id in PHC form. Anything else stored is a legacy hash (see ./hashes/). */
const isArgon2id = (hash: string) => hash.startsWith('$argon2id$');

/**
 * Ferry's own password hashing: argon2id, no truncation (argon2 hashes every byte). An imported or
 * migrated account may hold a legacy hash (bcrypt, PBKDF2, phpass… see ./hashes/); `verify`
 * checks it with the password exactly as typed, as the legacy system did, and `needsUpgrade` says
 * it must be replaced by argon2id at that successful sign-in. `verify` on an account without a
 * hash, and `decoy` when there is no account at all, spend the time of a real check so that
 * response times do not tell which accounts exist.
 */
export function createPasswordHasher(params: { memoryCost: number; timeCost: number; parallelism: number } = ARGON2_DEFAULTS) {
  const options = { type: argon2.argon2id as 2, ...params };
  // Hashing is CPU-bound: more at once than there are cores is not faster, only more memory each.
  const slot = createSlots(availableParallelism());
  const argon2Hash = (password: string) => slot(() => argon2.hash(password, options));
  const argon2Verify = (hash: string, password: string) => slot(() => argon2.verify(hash, password));
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= argon2Hash('ferry-decoy-password'));

  return {
    hash: (password: string): Promise<string> => argon2Hash(normalisePassword(password)),

    async verify(hash: string | null | undefined, password: string): Promise<boolean> {
      if (!hash) {
        await argon2Verify(await decoy(), normalisePassword(password)).catch(() => false);
        return false;
      }
      try {
        if (!isArgon2id(hash)) {
          // A legacy hash may be far cheaper than argon2id (a salted SHA-1): spending a decoy check
          // as well keeps such accounts from answering faster than unknown ones.
          const [valid] = await Promise.all([slot(() => verifyLegacyHash(hash, password)), argon2Verify(await decoy(), password).catch(() => false)]);
          return valid;
        }
        const normalised = normalisePassword(password);
        // An imported argon2id hash was made from the password as its user typed it.
        return (await argon2Verify(hash, normalised)) || (normalised !== password && (await argon2Verify(hash, password)));
      } catch {
        return false;
      }
    },

    /** Spends the time of one verification and returns false. */
    async decoy(password: string): Promise<false> {
      await argon2Verify(await decoy(), normalisePassword(password)).catch(() => false);
      return false;
    },

    /** True when a stored hash is not argon2id with the current parameters (a legacy hash, or weaker settings). */
    needsUpgrade: (hash: string): boolean => !isArgon2id(hash) || argon2.needsRehash(hash, options),
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

/** Runs at most `max` tasks at once, the others in order as places free. */
function createSlots(max: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running -= 1;
    }
  };
}

let common: Set<string> | undefined;

/**
 * The ~49,000 most common passwords (zxcvbn's list, MIT), compared case-insensitively. Loaded on
 * first use; only entries long enough to pass a length rule are kept.
 */
export function isCommonPassword(password: string): boolean {
  common ??= new Set((dictionary['passwords-common'] as string[]).filter((entry) => entry.length >= 6).map((entry) => entry.toLowerCase()));
  return common.has(password.toLowerCase());
}

/** Throws a BadRequest naming the rule a new password breaks; returns it normalised. */
export function checkPasswordPolicy(password: unknown, policy: PasswordPolicy): string {
  if (typeof password !== 'string' || password.length === 0) throw new BadRequest('Enter a password.', 'invalid_password');
  const normalised = normalisePassword(password);
  if ([...normalised].length < policy.minLength) {
    throw new BadRequest(`Use at least ${policy.minLength} characters for the password.`, 'weak_password');
  }
  if (normalised.length > MAX_PASSWORD_LENGTH) {
    throw new BadRequest(`Use at most ${MAX_PASSWORD_LENGTH} characters for the password.`, 'invalid_password');
  }
  if (isCommonPassword(normalised)) {
    throw new BadRequest('This password is one of the most commonly used ones. Choose another.', 'common_password');
  }
  return normalised;
}
