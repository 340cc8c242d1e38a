import { dictionary } from '@zxcvbn-ts/language-common';
import argon2 from 'argon2';
import { BadRequest } from '../errors.ts';

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

/**
 * Ferry's own password hashing: argon2id, no truncation (argon2 hashes every byte). `verify` on an
 * account without a hash, and `decoy` when there is no account at all, spend the same time as a
 * real check so that response times do not tell which accounts exist.
 */
export function createPasswordHasher(params: { memoryCost: number; timeCost: number; parallelism: number } = ARGON2_DEFAULTS) {
  const options = { type: argon2.argon2id as 2, ...params };
  let decoyHash: Promise<string> | undefined;
  const decoy = () => (decoyHash ??= argon2.hash('ferry-decoy-password', options));

  return {
    hash: (password: string): Promise<string> => argon2.hash(normalisePassword(password), options),

    async verify(hash: string | null | undefined, password: string): Promise<boolean> {
      if (!hash) {
        await argon2.verify(await decoy(), normalisePassword(password)).catch(() => false);
        return false;
      }
      try {
        return await argon2.verify(hash, normalisePassword(password));
      } catch {
        return false;
      }
    },

    /** Spends the time of one verification and returns false. */
    async decoy(password: string): Promise<false> {
      await argon2.verify(await decoy(), normalisePassword(password)).catch(() => false);
      return false;
    },

    /** True when a stored hash uses weaker parameters than the current ones. */
    needsRehash: (hash: string): boolean => argon2.needsRehash(hash, options),
  };
}

export type PasswordHasher = ReturnType<typeof createPasswordHasher>;

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
