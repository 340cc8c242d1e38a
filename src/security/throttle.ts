import type { ThrottleQueries } from '../store/queries/throttle.ts';

export interface ThrottlePolicy {
  /** Failures allowed without any delay. */
  freeFailures: number;
  /** Delay after the first failure past the free ones; it doubles with each further failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Consecutive failures after which every attempt is refused until the window passes. */
  maxFailures: number;
  /** A key with no failure for this long starts again from zero: nobody is locked out for good. */
  resetAfterSeconds: number;
}

/** `counted`: the keys that had failures on record (only those need clearing after a success). */
export type ThrottleDecision = { allowed: true; counted: string[] } | { allowed: false; retryAfterSeconds: number };

/**
 * Brute-force throttling on every password check, shared by all instances through the database.
 * Two kinds of key are counted independently: the account (the normalised identifier, whether or
 * not it exists) and the client IP. Past the free failures each one delays the next attempt
 * progressively; at `maxFailures` consecutive failures on an account (100, NIST SP 800-63B) every
 * attempt is refused before its password is looked at, until `resetAfterSeconds` pass.
 */
export function createThrottle(queries: ThrottleQueries, policies: { account: ThrottlePolicy; ip: ThrottlePolicy }) {
  const policyOf = (key: string) => (key.startsWith('ip:') ? policies.ip : policies.account);

  const delaySeconds = (policy: ThrottlePolicy, failures: number): number => {
    if (failures <= policy.freeFailures || policy.baseDelayMs <= 0) return 0;
    return Math.min(policy.baseDelayMs * 2 ** (failures - policy.freeFailures - 1), policy.maxDelayMs) / 1000;
  };

  return {
    keys(identifier: { kind: string; value: string }, ip: string | undefined): string[] {
      return [`account:${identifier.kind}:${identifier.value}`, ...(ip ? [`ip:${ip}`] : [])];
    },

    async check(keys: readonly string[]): Promise<ThrottleDecision> {
      let wait = 0;
      const rows = await queries.read(keys);
      for (const row of rows) {
        const policy = policyOf(row.key);
        if (row.idle_seconds >= policy.resetAfterSeconds) continue;
        if (row.failures >= policy.maxFailures) wait = Math.max(wait, policy.resetAfterSeconds - row.idle_seconds);
        if (row.blocked_seconds !== null && row.blocked_seconds > 0) wait = Math.max(wait, row.blocked_seconds);
      }
      return wait > 0 ? { allowed: false, retryAfterSeconds: Math.ceil(wait) } : { allowed: true, counted: rows.map((row) => row.key) };
    },

    async failed(keys: readonly string[]): Promise<void> {
      for (const key of keys) {
        const policy = policyOf(key);
        const failures = await queries.fail(key, policy.resetAfterSeconds);
        const delay = delaySeconds(policy, failures);
        if (delay > 0) await queries.block(key, delay);
      }
    },

    /** A successful sign-in ends the account's run of failures (the IP's count stays); `counted` as check() saw them. */
    async succeeded(keys: readonly string[], counted: readonly string[] = keys): Promise<void> {
      const account = keys.find((key) => key.startsWith('account:'));
      if (account && counted.includes(account)) await queries.clear(account);
    },

    prune: () => queries.prune(Math.max(policies.account.resetAfterSeconds, policies.ip.resetAfterSeconds)),
  };
}

export type Throttle = ReturnType<typeof createThrottle>;
