import type { Config } from '../../config/schema.ts';
import type { Federation } from '../../connection/index.ts';
import type { Database } from '../../store/db.ts';
import { createMailOutboxQueries } from '../../store/queries/mail-outbox.ts';
import { createMigrationQueries } from '../../store/queries/migration.ts';
import { createOidcModelQueries } from '../../store/queries/oidc-models.ts';
import { createConnectionLibrary } from './connection.ts';
import { createExecutionHistory } from './executions.ts';
import { createImportLibrary } from './import.ts';
import { createKeyRotation } from './keys.ts';
import { createMailOutbox } from './mail.ts';
import { createMigrationReport } from './migration.ts';
import { createScriptTester } from './script-test.ts';
import { createScriptLibrary } from './scripts.ts';
import { createUserLibrary } from './users.ts';

/**
 * What an administrator can do, whichever door they come through (the admin API, the console or
 * the CLI): every operation is a call on the federation's parts, never HTTP to Ferry itself.
 */
export function createAdminLibrary(deps: { config: Config; db: Database; federation: Federation; reloadKeys?: () => Promise<unknown> }) {
  const { config, db, federation } = deps;
  return {
    users: createUserLibrary(federation.directory, createOidcModelQueries(db)),
    imports: createImportLibrary(federation.bulkImport),
    connection: createConnectionLibrary(federation.settings),
    scripts: createScriptLibrary({ settings: federation.settings, queries: federation.scriptQueries }),
    tester: createScriptTester({ issuer: config.issuer, settings: federation.settings, runner: federation.runner, executions: federation.executions }),
    executions: createExecutionHistory({ log: federation.executions, queries: federation.executionQueries }),
    migration: createMigrationReport({
      queries: createMigrationQueries(db),
      executions: federation.executionQueries,
      retirement: federation.retirement,
      sweep: federation.sweep,
      connectionEnabled: async () => (await federation.settings.current()).enabled,
    }),
    sweep: federation.sweep,
    retirement: federation.retirement,
    mail: createMailOutbox({ config: config.mail, queries: createMailOutboxQueries(db) }),
    keys: createKeyRotation({ config, db, reloadKeys: deps.reloadKeys }),
  };
}

export type AdminLibrary = ReturnType<typeof createAdminLibrary>;
