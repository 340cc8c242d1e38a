import type { AccountQueries } from '../store/queries/accounts.ts';
import { DEMO_USERS } from './legacy-db.ts';

/** What the demo page shows of the migration: each sample user's state, and the signed-in user's. */
export async function demoMigrationStatus(accounts: AccountQueries, sub: string | undefined) {
  const legacyUsers = await Promise.all(
    DEMO_USERS.map(async (user) => {
      const account = await accounts.findBy('email', user.email);
      return { email: user.email, username: user.username, password: user.password, migratedAt: account?.migrated_at?.toISOString() };
    }),
  );
  const account = sub ? await accounts.findBy('sub', sub) : undefined;
  const migration = account
    ? { migrated: account.legacy_id !== null, legacyId: account.legacy_id, migratedAt: account.migrated_at?.toISOString(), createdAt: account.created_at.toISOString() }
    : undefined;
  return { legacyUsers, migration };
}
