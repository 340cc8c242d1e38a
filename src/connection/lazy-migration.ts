import { randomUUID } from 'node:crypto';
import type { Identifier } from '../accounts/identifier.ts';
import type { PasswordHasher } from '../accounts/passwords.ts';
import { parseTotpSecret } from '../accounts/second-factor.ts';
import { subjectOf } from '../accounts/subject.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Logger } from '../log.ts';
import type { AccountQueries, AccountRow, Profile } from '../store/queries/accounts.ts';
import type { ExecutionQueries } from '../store/queries/executions.ts';
import { profileIdentifiers } from './profile.ts';

export type Migration = { ok: true; account: AccountRow; created: boolean } | { ok: false; reason: 'conflict'; field: string };

/**
 * Copies a user the legacy `login` script just verified into Ferry's accounts, with Ferry's own
 * argon2id hash of the password — or, when given (connection.adoptLegacyHashes, off by default),
 * the legacy bcrypt hash the script verified it against, which Ferry replaces with its own at the
 * next sign-in. One INSERT, so a crash leaves nothing half done; uniqueness is the
 * database's: of concurrent first logins one row wins and the others find it by legacy id. An
 * account that already holds the email, phone or username under another legacy id (someone
 * registered it first) makes the migration fail closed.
 */
export function createLazyMigration(deps: {
  queries: AccountQueries;
  executions: ExecutionQueries;
  hasher: PasswordHasher;
  subjectPrefix: string;
  log: Logger;
  audit?: Pick<AuditLog, 'record'> | undefined;
}) {
  const { queries } = deps;

  const whoHolds = async (ids: Record<string, string | undefined>): Promise<string> => {
    for (const field of ['email', 'phone', 'username'] as const) {
      const value = ids[field];
      if (value && (await queries.findBy(field, value))) return field;
    }
    return 'sub';
  };

  return {
    async migrate(given: Profile, legacyId: string, identifier: Identifier, password: string, adoptedHash?: string): Promise<Migration> {
      // A TOTP secret the legacy system had comes along as a confirmed second factor, never as a profile field.
      const { totpSecret, ...profile } = given;
      const totp = totpSecret === undefined || totpSecret === null ? undefined : parseTotpSecret(totpSecret);
      if (totp && !totp.ok) deps.log.warn({ legacyId }, `migrated without a second factor: ${totp.problem}`);
      const ids = profileIdentifiers(profile);
      // The identifier the person typed finds the account from now on, even if the profile lacks it.
      if (!ids[identifier.kind]) ids[identifier.kind] = identifier.value;
      const inserted = await queries.insertIfAbsent({
        id: randomUUID(),
        sub: subjectOf(deps.subjectPrefix, legacyId),
        ...ids,
        passwordHash: adoptedHash ?? (await deps.hasher.hash(password)),
        profile,
        legacyId,
        migratedAt: new Date(),
        totpSecret: totp?.ok ? totp.secret : undefined,
      });
      if (inserted) {
        deps.log.info({ sub: inserted.sub, legacyId }, 'user migrated');
        deps.audit?.record({ type: 'user.migrated', subject: inserted.sub, outcome: 'created', detail: { legacyId, secondFactor: Boolean(totp?.ok) } });
        return { ok: true, account: inserted, created: true };
      }
      const existing = await queries.findBy('legacy_id', legacyId);
      if (existing) return { ok: true, account: existing, created: false };
      return this.refuse(legacyId, await whoHolds(ids));
    },

    /** Logs and records a legacy user whose identifier another account already holds. */
    async refuse(legacyId: string, field: string): Promise<Migration> {
      deps.log.warn({ legacyId, field }, 'migration refused: another account already holds this identifier');
      deps.audit?.record({ type: 'user.migrated', outcome: 'conflict', detail: { legacyId, field } });
      await deps.executions.recordMigrationFailure('conflict', legacyId, `${field} already belongs to another account`);
      return { ok: false, reason: 'conflict', field };
    },
  };
}

export type LazyMigration = ReturnType<typeof createLazyMigration>;
