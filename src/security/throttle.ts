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

/** Who is signing in, as far as is known before the password is looked at. */
export type ThrottleSubject = { sub: string } | { kind: string; value: string };

/** One attempt taken on a key: the failure count it would make, and the block it set while it is checked. */
export interface Taken {
  key: string;
  failures: number;
  block: string | null;
}

/** Attempts taken on each key, or why there is none. */
export type Reservation = { allowed: true; taken: Taken[] } | { allowed: false; retryAfterSeconds: number };

/** A guess counted by the throttle: refused before it was checked, or checked and right or wrong. */
export type Guess = { allowed: false; retryAfterSeconds: number } | { allowed: true; right: boolean };

/**
 * Brute-force throttling on every password check, shared by all instances through the database.
 * Two kinds of key are counted independently: the account and the client IP. An account Ferry
 * knows (a local account, found before its password is checked) has one key for all its
 * identifiers and for the password page; an identifier Ferry knows nothing about (an unknown
 * user, or one only the legacy script knows) is its own key. Each attempt is reserved as a
 * failure before the password is checked — atomically, so parallel attempts cannot all slip in
 * under the limit — and handed back when the check succeeds or gives no verdict. Past the free
 * failures each key delays the next attempt progressively, and once a key has been blocked, the
 * reservation itself blocks it for the delay its failure would bring, so a burst after a block
 * ends has one attempt checked, not the whole burst; at `maxFailures` consecutive failures
 * on an account (100, NIST SP 800-63B) every attempt is refused before its password is looked
 * at, until `resetAfterSeconds` pass.
 */
export function createThrottle(queries: ThrottleQueries, policies: { account: ThrottlePolicy; ip: ThrottlePolicy }) {
  const policyOf = (key: string) => (key.startsWith('ip:') ? policies.ip : policies.account);
  const isAccount = (key: string) => key.startsWith('account:');

  const delaySeconds = (policy: ThrottlePolicy, failures: number): number => {
    if (failures <= policy.freeFailures || policy.baseDelayMs <= 0) return 0;
    return Math.min(policy.baseDelayMs * 2 ** (failures - policy.freeFailures - 1), policy.maxDelayMs) / 1000;
  };

  /** How long the refused keys still wait: past the window at the limit, or until their delay ends. */
  const retryAfter = async (keys: readonly string[]): Promise<number> => {
    let wait = 0;
    for (const row of await queries.read(keys)) {
      const policy = policyOf(row.key);
      if (row.failures >= policy.maxFailures) wait = Math.max(wait, policy.resetAfterSeconds - row.idle_seconds);
      if (row.blocked_seconds !== null) wait = Math.max(wait, row.blocked_seconds);
    }
    return Math.max(1, Math.ceil(wait));
  };

  const throttle = {
    /** The keys of one attempt: the account (or the identifier) and the client IP. */
    keys(subject: ThrottleSubject, ip: string | undefined): string[] {
      const account = 'sub' in subject ? `account:sub:${subject.sub}` : `account:${subject.kind}:${subject.value}`;
      return [account, ...(ip ? [`ip:${ip}`] : [])];
    },

    /** Takes one attempt on every key (a key listed twice, two), or none: a refused key hands back those already taken. */
    async reserve(keys: readonly string[]): Promise<Reservation> {
      // Distinct keys (a sign-in's account and IP) in one statement; a key listed twice one at a time.
      if (keys.length > 1 && new Set(keys).size === keys.length) {
        const reserved = await queries.reserveAll(
          keys.map((key) => {
            const policy = policyOf(key);
            return { key, maxFailures: policy.maxFailures, resetSeconds: policy.resetAfterSeconds, delay: policy };
          }),
        );
        const taken = keys.flatMap((key) => (reserved.has(key) ? [{ key, ...reserved.get(key)! }] : []));
        const refused = keys.find((key) => !reserved.has(key));
        if (refused === undefined) return { allowed: true, taken };
        if (taken.length > 0) await queries.giveBack(taken);
        return { allowed: false, retryAfterSeconds: await retryAfter([refused]) };
      }
      const taken: Taken[] = [];
      for (const key of keys) {
        const policy = policyOf(key);
        const reserved = await queries.reserve(key, policy.maxFailures, policy.resetAfterSeconds, policy);
        if (!reserved) {
          if (taken.length > 0) await queries.giveBack(taken);
          return { allowed: false, retryAfterSeconds: await retryAfter([key]) };
        }
        taken.push({ key, ...reserved });
      }
      return { allowed: true, taken };
    },

    /** The password was wrong: the reserved failures stand, and each key waits as its policy says. */
    async failed(reservation: Reservation): Promise<void> {
      if (!reservation.allowed) return;
      for (const { key, failures } of reservation.taken) await queries.fail(key, delaySeconds(policyOf(key), failures));
    },

    /**
     * The password was right: the account's run of failures ends; the IP's count stays as it was.
     * `signedIn`'s sign-in is counted in the same statement (user_activity).
     */
    async succeeded(reservation: Reservation, signedIn?: string): Promise<void> {
      const taken = reservation.allowed ? reservation.taken : [];
      const accounts = taken.filter((entry) => isAccount(entry.key));
      const others = taken.filter((entry) => !isAccount(entry.key));
      if (accounts.length > 0 || others.length > 0 || signedIn !== undefined)
        await queries.settle(
          accounts.map((entry) => entry.key),
          others,
          signedIn,
        );
    },

    /** No verdict on the password (the legacy side was unavailable, the form was wrong): nothing counts. */
    async release(reservation: Reservation): Promise<void> {
      if (reservation.allowed && reservation.taken.length > 0) await queries.giveBack(reservation.taken);
    },

    /**
     * One guess of a secret (a password, a second-factor code) counted on `keys`: reserved before
     * `check` runs, then kept when it answers false, cleared when true, handed back when it
     * throws (no verdict; the error goes on). Refused: nothing is checked.
     */
    async guess(keys: readonly string[], check: () => Promise<boolean>): Promise<Guess> {
      const reservation = await throttle.reserve(keys);
      if (!reservation.allowed) return { allowed: false, retryAfterSeconds: reservation.retryAfterSeconds };
      let right: boolean;
      try {
        right = await check();
      } catch (error) {
        await throttle.release(reservation);
        throw error;
      }
      await (right ? throttle.succeeded(reservation) : throttle.failed(reservation));
      return { allowed: true, right };
    },

    prune: () => queries.prune(Math.max(policies.account.resetAfterSeconds, policies.ip.resetAfterSeconds)),
  };
  return throttle;
}

export type Throttle = ReturnType<typeof createThrottle>;
