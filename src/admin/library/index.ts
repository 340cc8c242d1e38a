import type { AuditLog } from '../../audit/index.ts';
import type { Config } from '../../config/schema.ts';
import { auditChanges } from './audited.ts';
import type { ConnectionParts } from '../../connection/index.ts';
import type { Database } from '../../store/db.ts';
import type { ClientCheck } from '../../oidc/stored-clients.ts';
import type { Queries } from '../../store/queries/index.ts';
import { createAdminKeyLibrary } from './admin-keys.ts';
import { createClientLibrary } from './clients.ts';
import { createConnectionLibrary } from './connection.ts';
import { createExecutionHistory } from './executions.ts';
import { createImportLibrary } from './import.ts';
import { createKeyRotation } from './keys.ts';
import { createMailOutbox } from './mail.ts';
import { createMigrationReport } from './migration.ts';
import { createScriptTester } from './script-test.ts';
import { createScriptLibrary } from './scripts.ts';
import { createUserLibrary } from './users.ts';

/** The parts the admin library works on, named: no bag to reach into. */
export interface AdminLibraryDeps {
  config: Config;
  /** For key rotation, which runs in a transaction of its own. */
  db: Database;
  queries: Pick<
    Queries,
    'oidcModels' | 'scripts' | 'executions' | 'migration' | 'mailOutbox' | 'clients' | 'userActivity' | 'sessions' | 'secondFactors' | 'adminKeys'
  >;
  connection: Pick<ConnectionParts, 'settings' | 'runner' | 'executions' | 'directory' | 'bulkImport' | 'sweep' | 'retirement'>;
  reloadKeys?: () => Promise<unknown>;
  /** Relying parties: the configured ones (read-only) and oidc-provider's validation (absent in the CLI). */
  clients?: { configured: readonly Record<string, unknown>[]; check?: ClientCheck; changed?: () => void };
  /** Where admin changes are recorded, and what GET /api/v1/audit reads (absent: not audited). */
  audit?: AuditLog | undefined;
}

/**
 * What an administrator can do, whichever door they come through (the admin API, the console or
 * the CLI): every operation is a call on the federation's parts, never HTTP to Ferry itself.
 */
export function createAdminLibrary(deps: AdminLibraryDeps) {
  const { config, queries, connection } = deps;
  const { settings, runner, executions } = connection;
  const library = {
    users: createUserLibrary(connection.directory, {
      oidcModels: queries.oidcModels,
      activity: queries.userActivity,
      sessions: queries.sessions,
      secondFactors: queries.secondFactors,
    }),
    imports: createImportLibrary(connection.bulkImport),
    connection: createConnectionLibrary(settings),
    scripts: createScriptLibrary({ settings, queries: queries.scripts }),
    tester: createScriptTester({ issuer: config.issuer, settings, runner, executions }),
    executions: createExecutionHistory({ log: executions, queries: queries.executions }),
    migration: createMigrationReport({
      queries: queries.migration,
      executions: queries.executions,
      retirement: connection.retirement,
      sweep: connection.sweep,
      connectionEnabled: async () => (await settings.current()).enabled,
    }),
    sweep: connection.sweep,
    retirement: connection.retirement,
    mail: createMailOutbox({ config: config.mail, queries: queries.mailOutbox }),
    clients: createClientLibrary({
      queries: queries.clients,
      configured: deps.clients?.configured ?? config.clients,
      check: deps.clients?.check,
      changed: deps.clients?.changed,
    }),
    keys: createKeyRotation({ config, db: deps.db, reloadKeys: deps.reloadKeys }),
    adminKeys: createAdminKeyLibrary(queries.adminKeys),
    audit: deps.audit,
  };
  return deps.audit ? auditChanges(library, deps.audit, settings) : library;
}

export type AdminLibrary = ReturnType<typeof createAdminLibrary>;
