import type { AccountLibrary } from '../accounts/library.ts';
import type { AuditLog } from '../audit/index.ts';
import type { PasswordPolicy } from '../accounts/passwords.ts';
import type { ClaimsCache } from '../connection/claims-cache.ts';
import type { Connection } from '../connection/connection.ts';
import type { LazyMigration } from '../connection/lazy-migration.ts';
import type { ScriptRunner } from '../connection/scripts.ts';
import type { ConnectionSettings } from '../connection/settings.ts';
import type { FailureFloor } from '../connection/timing.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Throttle } from '../security/throttle.ts';
import type { UserActivityQueries } from '../store/queries/user-activity.ts';

/** Everything the sign-in works with, passed in explicitly: tests give fakes through the same factories. */
export interface SignInParts {
  issuer: string;
  subjectPrefix: string;
  customClaims: readonly string[];
  policy: PasswordPolicy;
  accounts: AccountLibrary;
  settings: ConnectionSettings;
  runner: ScriptRunner;
  migration: LazyMigration;
  claimsCache: ClaimsCache;
  floor: FailureFloor;
  throttle: Throttle;
  /** Blocks of custom-store users, by identifier (a local account carries its own). */
  blocks: Pick<UserActivityQueries, 'blockedIdentifier' | 'blockedSubject'>;
  /** What a blocked user is told (config `blockedUserMessage`). */
  blockedMessage: string;
  metrics?: Metrics | undefined;
  log: Logger;
  /** Each attempt's outcome is recorded here, written in batches off the sign-in's path. */
  audit?: Pick<AuditLog, 'record'> | undefined;
}

/** Where users live under the connection as it is now: Ferry's own accounts, or one of the connection's two modes. */
export type SignInMode = 'local' | 'LAZY_MIGRATION' | 'CUSTOM_USER_STORE';

/** The one place that reads `enabled` and `mode` together. */
export function modeOf(connection: Connection): SignInMode {
  return connection.enabled ? connection.mode : 'local';
}
