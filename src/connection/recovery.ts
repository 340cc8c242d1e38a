import { normaliseEmail, toScriptQuery, type Identifier } from '../accounts/identifier.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Profile } from '../store/queries/accounts.ts';
import type { Migration, LazyMigration } from './lazy-migration.ts';
import { checkProfile } from './profile.ts';
import { scriptContext, type ScriptRunner } from './scripts.ts';
import type { ConnectionSettings } from './settings.ts';

export type LegacyLookup = { found: true; legacyId: string; email: string | undefined } | { found: false } | { found: 'unavailable' };

/**
 * Password reset for a user Ferry holds no account for. In LAZY_MIGRATION, a user who never
 * signed in: `getUser` finds them in the legacy database by the identifier they typed, and the
 * reset migrates them with the new password, exactly as a first sign-in would (same subject; an
 * identifier held by another account fails closed). In CUSTOM_USER_STORE, where users stay in
 * the legacy database, `getUser` finds them the same way and the reset sets the new password with
 * `updateUser(id, { password }, context)`. With the connection off nobody is found here.
 */
export function createLegacyRecovery(deps: {
  issuer: string;
  settings: ConnectionSettings;
  runner: ScriptRunner;
  migration: LazyMigration;
  metrics?: Metrics | undefined;
}) {
  const enabled = async () => {
    const connection = await deps.settings.current();
    return connection.enabled ? connection : undefined;
  };

  const getUser = async (query: Record<string, string | undefined>): Promise<{ legacyId: string; profile: Profile } | undefined | 'unavailable'> => {
    const connection = await enabled();
    if (!connection) return undefined;
    const outcome = await deps.runner.run<Profile | null>(connection, 'getUser', [query, scriptContext(deps.issuer, {})]);
    if (!outcome.ok) return 'unavailable';
    if (!outcome.value) return undefined;
    const check = checkProfile(outcome.value);
    return check.ok ? { legacyId: check.legacyId, profile: check.profile } : 'unavailable';
  };

  return {
    async find(identifier: Identifier): Promise<LegacyLookup> {
      const user = await getUser(toScriptQuery(identifier));
      if (user === 'unavailable') return { found: 'unavailable' };
      if (!user) return { found: false };
      const email = typeof user.profile.email === 'string' ? normaliseEmail(user.profile.email) : undefined;
      return { found: true, legacyId: user.legacyId, email };
    },

    /**
     * Reads the user again (they may have changed or gone since the link was sent) and gives them
     * `password`: a migration with it in LAZY_MIGRATION, `updateUser` in CUSTOM_USER_STORE
     * (answered with the address to tell).
     */
    async setPassword(
      legacyId: string,
      identifier: Identifier,
      password: string,
    ): Promise<Migration | { ok: true; stored: { email: string | undefined } } | { ok: false; reason: 'gone' | 'unavailable' }> {
      const user = await getUser({ id: legacyId });
      if (user === 'unavailable') return { ok: false, reason: 'unavailable' };
      if (!user || user.legacyId !== legacyId) return { ok: false, reason: 'gone' };
      const connection = await enabled();
      if (connection?.mode === 'CUSTOM_USER_STORE') {
        const updated = await deps.runner.run(connection, 'updateUser', [legacyId, { password }, scriptContext(deps.issuer, {})], { secrets: [password] });
        if (!updated.ok) return { ok: false, reason: 'unavailable' };
        return { ok: true, stored: { email: typeof user.profile.email === 'string' ? normaliseEmail(user.profile.email) : undefined } };
      }
      const migrated = await deps.migration.migrate(user.profile, legacyId, identifier, password);
      deps.metrics?.migrations.inc({ result: migrated.ok ? (migrated.created ? 'created' : 'existing') : 'conflict' });
      return migrated;
    },
  };
}

export type LegacyRecovery = ReturnType<typeof createLegacyRecovery>;
