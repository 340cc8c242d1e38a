import type { AccountLibrary } from '../accounts/library.ts';
import type { AuditLog } from '../audit/index.ts';
import type { PasswordHasher } from '../accounts/passwords.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Sandbox } from '../sandbox/index.ts';
import type { Queries } from '../store/queries/index.ts';
import { createBulkImport } from './bulk-import.ts';
import { createClaimsCache } from './claims-cache.ts';
import { createDirectory } from './directory.ts';
import { createLegacyRecovery } from './recovery.ts';
import { createExecutionLog } from './execution-log.ts';
import { createLazyMigration } from './lazy-migration.ts';
import { createScriptRunner } from './scripts.ts';
import { createConnectionSettings } from './settings.ts';
import { createFailureFloor } from './timing.ts';
import type { Metrics } from '../ops/metrics.ts';
import { createThrottle } from '../security/throttle.ts';
import { createSignIn } from '../sign-in/index.ts';
import { createRetirement } from './retire.ts';
import { createSweep } from './sweep.ts';

export { CONNECTION_ID } from './settings.ts';
export { SCRIPT_NAMES, isScriptName, type ScriptName, type Connection } from './connection.ts';

/** The custom-database connection wired over Ferry's database and the sandbox. */
export function createConnection(deps: {
  config: Config;
  queries: Pick<Queries, 'accounts' | 'executions' | 'keys' | 'migration' | 'scripts' | 'sweeps' | 'throttle' | 'userActivity'>;
  accounts: AccountLibrary;
  hasher: PasswordHasher;
  sandbox: Sandbox;
  metrics?: Metrics | undefined;
  log: Logger;
  /** Sign-ins, throttle blocks, migrations and imports are recorded here (absent: not audited). */
  audit?: AuditLog | undefined;
}) {
  const { config, queries, log, audit } = deps;
  const settings = createConnectionSettings({ config: config.connection, settings: queries.keys, scripts: queries.scripts });
  const executions = createExecutionLog(queries.executions, log);
  const runner = createScriptRunner({ sandbox: deps.sandbox, settings, executions, metrics: deps.metrics });
  const throttle = createThrottle(queries.throttle, config.bruteForce);
  const claimsCache = createClaimsCache();
  const migration = createLazyMigration({
    queries: queries.accounts,
    executions: queries.executions,
    hasher: deps.hasher,
    subjectPrefix: config.subjectPrefix,
    log,
    audit,
  });
  const floor = createFailureFloor();
  const signIn = createSignIn({
    issuer: config.issuer,
    subjectPrefix: config.subjectPrefix,
    customClaims: config.customClaims,
    policy: config.passwordPolicy,
    accounts: deps.accounts,
    settings,
    runner,
    migration,
    claimsCache,
    floor,
    throttle,
    blocks: queries.userActivity,
    blockedMessage: config.blockedUserMessage,
    metrics: deps.metrics,
    log,
    audit,
  });
  const directory = createDirectory({
    issuer: config.issuer,
    subjectPrefix: config.subjectPrefix,
    policy: config.passwordPolicy,
    accounts: deps.accounts,
    queries: queries.accounts,
    settings,
    runner,
    forget: (sub) => claimsCache.delete(sub),
  });
  const bulkImport = createBulkImport({ queries: queries.accounts, subjectPrefix: config.subjectPrefix, log });
  const legacyRecovery = createLegacyRecovery({ issuer: config.issuer, settings, runner, migration, metrics: deps.metrics });
  // Finishing the migration: the sweep imports the users who never came back, and retiring
  // switches the connection off once none remain.
  const sweep = createSweep({ issuer: config.issuer, settings, runner, bulkImport, queries: queries.sweeps, log });
  const retirement = createRetirement({ issuer: config.issuer, settings, runner, queries: queries.migration, keys: queries.keys, log });
  return { settings, runner, executions, claimsCache, floor, throttle, signIn, directory, bulkImport, legacyRecovery, sweep, retirement };
}

export type ConnectionParts = ReturnType<typeof createConnection>;
