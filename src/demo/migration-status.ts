import type { AccountQueries } from '../store/queries/accounts.ts';
import { DEMO_USERS } from './legacy-db.ts';

/** What the demo page shows of the migration: each sample user's state, and the signed-in user's. */
export async function demoMigrationStatus(accounts: AccountQueries, sub: string | undefined) {
  const legacyUsers = await Promise.all(
    DEMO_USERS.map(async (user) => {
      const account = await accounts.findBy('email', user.email);
      return { email: user.email, username: user.username, password: user.password, migratedAt: readableTime(account?.migrated_at) };
    }),
  );
  const account = sub ? await accounts.findBy('sub', sub) : undefined;
  const migration = account
    ? {
        migrated: account.legacy_id !== null,
        legacyId: account.legacy_id,
        migratedAt: readableTime(account.migrated_at),
        createdAt: readableTime(account.created_at),
      }
    : undefined;
  return { legacyUsers, migration };
}

/** "2026-12-05 12:14 UTC": what a person reads on the page, instead of an ISO timestamp with milliseconds. */
export function readableTime(date: Date | null | undefined): string | undefined {
  return date ? `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC` : undefined;
}
