import type { Queryable } from '../db.ts';
import { forget } from '../request-scope.ts';
import { ACCOUNT } from './accounts.ts';

/** What an operator sees of a user beyond the profile. */
export interface UserActivity {
  signInCount: number;
  lastSignInAt: Date | null;
  blockedAt: Date | null;
}

const NONE: UserActivity = { signInCount: 0, lastSignInAt: null, blockedAt: null };

/**
 * SQL for `user_activity`, keyed by subject for every user (migration 014). A sign-in is counted
 * by the throttle's own write at the end of a successful check (queries/throttle.ts, `settle`),
 * not here: no round trip of its own.
 */
export function createUserActivityQueries(db: Queryable) {
  return {
    /** The activity of each subject asked about; one that never signed in and was never blocked gets zeros. */
    async of(subs: readonly string[]): Promise<Map<string, UserActivity>> {
      const found = new Map<string, UserActivity>();
      if (subs.length === 0) return found;
      const { rows } = await db.query<{ sub: string; sign_in_count: number; last_sign_in_at: Date | null; blocked_at: Date | null }>(
        'select sub, sign_in_count, last_sign_in_at, blocked_at from user_activity where sub = any($1::text[])',
        [subs],
      );
      for (const row of rows) found.set(row.sub, { signInCount: row.sign_in_count, lastSignInAt: row.last_sign_in_at, blockedAt: row.blocked_at });
      return new Map(subs.map((sub) => [sub, found.get(sub) ?? NONE]));
    },

    /**
     * Blocks a subject, in one statement: its activity row (with `identifiers`, kind:value, for a
     * custom-store user) and, when Ferry has an account under that subject, the account's own
     * flag, which the sign-in's account read sees. Blocking again keeps the first time.
     */
    async block(sub: string, identifiers: readonly string[]): Promise<void> {
      forget(ACCOUNT);
      await db.query(
        `with account as (update accounts set blocked_at = coalesce(blocked_at, now()) where sub = $1)
         insert into user_activity (sub, blocked_at, blocked_identifiers) values ($1, now(), $2::text[])
         on conflict (sub) do update set blocked_at = coalesce(user_activity.blocked_at, now()), blocked_identifiers = excluded.blocked_identifiers`,
        [sub, identifiers],
      );
    },

    async unblock(sub: string): Promise<void> {
      forget(ACCOUNT);
      await db.query(
        `with account as (update accounts set blocked_at = null where sub = $1)
         update user_activity set blocked_at = null, blocked_identifiers = '{}' where sub = $1`,
        [sub],
      );
    },

    /** A deleted user's activity and block go with them: a later user with the same identifiers is not blocked. */
    async delete(sub: string): Promise<void> {
      await db.query('delete from user_activity where sub = $1', [sub]);
    },

    /** Whether this subject is blocked. */
    async blockedSubject(sub: string): Promise<boolean> {
      const { rows } = await db.query('select 1 from user_activity where sub = $1 and blocked_at is not null', [sub]);
      return rows.length > 0;
    },

    /** Whether any of these identifiers (kind:value) belongs to a blocked custom-store user. */
    async blockedIdentifier(identifiers: readonly string[]): Promise<boolean> {
      const { rows } = await db.query('select 1 from user_activity where blocked_at is not null and blocked_identifiers && $1::text[] limit 1', [identifiers]);
      return rows.length > 0;
    },
  };
}

export type UserActivityQueries = ReturnType<typeof createUserActivityQueries>;

/** How a blocked custom-store user's identifiers are stored and looked up. */
export const identifierKey = (kind: string, value: string) => `${kind}:${value}`;
