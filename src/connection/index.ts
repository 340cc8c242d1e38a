import type { AccountLibrary } from '../accounts/library.ts';
import type { PasswordHasher } from '../accounts/passwords.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Sandbox } from '../sandbox/index.ts';
import type { Database } from '../store/db.ts';
import type { AccountQueries } from '../store/queries/accounts.ts';
import { createExecutionQueries } from '../store/queries/executions.ts';
import { createKeyQueries } from '../store/queries/keys.ts';
import { createScriptQueries } from '../store/queries/scripts.ts';
import { createBulkImport } from './bulk-import.ts';
import { createClaimsCache } from './claims-cache.ts';
import { createDirectory } from './directory.ts';
import { createLegacyRecovery } from './recovery.ts';
import { createExecutionLog } from './execution-log.ts';
import { createLazyMigration } from './lazy-migration.ts';
import { createScriptRunner } from './scripts.ts';
import { createConnectionSettings } from './settings.ts';
import { createFederatedSignIn } from './sign-in.ts';
import { createFailureFloor } from './timing.ts';
import type { Metrics } from '../ops/metrics.ts';
import { createThrottle } from '../security/throttle.ts';
import { createThrottleQueries } from '../store/queries/throttle.ts';
import { createMigrationQueries } from '../store/queries/migration.ts';
import { createSweepQueries } from '../store/queries/sweeps.ts';
import { createRetirement } from './retire.ts';
import { createSweep } from './sweep.ts';

export { CONNECTION_ID } from './settings.ts';
export { SCRIPT_NAMES, isScriptName, type ScriptName, type Connection } from './connection.ts';

/** The custom-database connection wired over Ferry's database and the sandbox. */
export function createFederation(deps: {
  config: Config;
  db: Database;
  accounts: AccountLibrary;
  accountQueries: AccountQueries;
  hasher: PasswordHasher;
  sandbox: Sandbox;
  metrics?: Metrics | undefined;
  log: Logger;
}) {
  const { config, db, log } = deps;
  const executionQueries = createExecutionQueries(db);
  const scriptQueries = createScriptQueries(db);
  const keyQueries = createKeyQueries(db);
  const settings = createConnectionSettings({ config: config.connection, settings: keyQueries, scripts: scriptQueries });
  const executions = createExecutionLog(executionQueries, log);
  const runner = createScriptRunner({ sandbox: deps.sandbox, settings, executions, metrics: deps.metrics });
  const throttle = createThrottle(createThrottleQueries(db), config.bruteForce);
  const claimsCache = createClaimsCache();
  const migration = createLazyMigration({
    queries: deps.accountQueries,
    executions: executionQueries,
    hasher: deps.hasher,
    subjectPrefix: config.subjectPrefix,
    log,
  });
  const floor = createFailureFloor();
  const signIn = createFederatedSignIn({
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
    metrics: deps.metrics,
    log,
  });
  const directory = createDirectory({
    issuer: config.issuer,
    subjectPrefix: config.subjectPrefix,
    policy: config.passwordPolicy,
    accounts: deps.accounts,
    queries: deps.accountQueries,
    settings,
    runner,
    forget: (sub) => claimsCache.delete(sub),
  });
  const bulkImport = createBulkImport({ queries: deps.accountQueries, subjectPrefix: config.subjectPrefix, log });
  const legacyRecovery = createLegacyRecovery({ issuer: config.issuer, settings, runner, migration, metrics: deps.metrics });
  // Finishing the migration: the sweep imports the users who never came back, and retiring
  // switches the connection off once none remain.
  const sweep = createSweep({ issuer: config.issuer, settings, runner, bulkImport, queries: createSweepQueries(db), log });
  const retirement = createRetirement({ issuer: config.issuer, settings, runner, queries: createMigrationQueries(db), keys: keyQueries, log });
  return {
    settings,
    runner,
    executions,
    executionQueries,
    scriptQueries,
    claimsCache,
    floor,
    throttle,
    signIn,
    directory,
    bulkImport,
    legacyRecovery,
    sweep,
    retirement,
  };
}

export type Federation = ReturnType<typeof createFederation>;
