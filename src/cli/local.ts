import { createAccountLibrary } from '../accounts/library.ts';
import { createPasswordHasher } from '../accounts/passwords.ts';
import { createAdminLibrary, type AdminLibrary } from '../admin/library/index.ts';
import type { Config } from '../config/schema.ts';
import { startLegacyDemo, withLegacyDemo } from '../demo/legacy-db.ts';
import { Conflict } from '../errors.ts';
import { createFederation } from '../connection/index.ts';
import { createLogger, redact } from '../log.ts';
import { createSandbox, sandboxProcessOptions, storeAddress } from '../sandbox/index.ts';
import { openDatabase } from '../store/index.ts';
import { livePidUsing, pidFilePath } from '../store/pid-file.ts';
import { createAccountQueries } from '../store/queries/accounts.ts';

export interface Local {
  config: Config;
  library: AdminLibrary;
  close(): Promise<void>;
}

/**
 * The configured database opened by this process, with the federation over it (the same parts as
 * the server, without HTTP). Refuses an embedded PGlite directory that a running server holds.
 */
export async function openLocal(config: Config): Promise<Local> {
  if (!config.databaseUrl) {
    const pid = livePidUsing(config.dataDir);
    if (pid !== undefined) {
      throw new Conflict(
        `Ferry is running on the data directory ${config.dataDir} (pid ${pid}, see ${pidFilePath(config.dataDir)}), and its embedded database cannot be opened twice. Ask the running server instead: add --url http://<host>:<port> and the admin token (--token or FERRY_ADMIN_TOKEN), or stop the server first.`,
        'data_dir_in_use',
      );
    }
  }
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const log = createLogger({ level: 'warn', destination: process.stderr });
  // The server's path (a sandbox process when the configuration has them), with one process: a
  // command runs one script at a time.
  const sandbox = createSandbox({
    log,
    store: storeAddress(config.databaseUrl),
    ...sandboxProcessOptions({ ...config, sandboxProcesses: Math.min(1, config.sandboxProcesses) }, 2),
  });
  // The zero-configuration demo signs in from its sample legacy database; so does its CLI.
  // Without it the CLI still works on Ferry's own accounts, so a failure is a warning, not the end.
  const legacyDemo =
    config.demo && !config.connection.enabled
      ? await startLegacyDemo(config.dataDir).catch((error: unknown) => {
          process.stderr.write(
            `\nWarning: the demo's sample legacy database could not start (${redact((error as Error).message)}); its users cannot be reached from this command.\n`,
          );
          return undefined;
        })
      : undefined;
  const effective = withLegacyDemo(config, legacyDemo);
  const accountQueries = createAccountQueries(db);
  const hasher = createPasswordHasher();
  const accounts = createAccountLibrary({ queries: accountQueries, hasher, policy: config.passwordPolicy, subjectPrefix: config.subjectPrefix });
  const federation = createFederation({ config: effective, db, accounts, accountQueries, hasher, sandbox, log });
  return {
    config,
    library: createAdminLibrary({ config, db, federation }),
    async close() {
      await federation.sweep.stop();
      await federation.executions.close();
      await sandbox.close();
      await legacyDemo?.close();
      await db.close();
    },
  };
}
