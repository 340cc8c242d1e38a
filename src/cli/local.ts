import { createAdminLibrary, type AdminLibrary } from '../admin/library/index.ts';
import { composeParts, type Factories } from '../compose.ts';
import type { Config } from '../config/schema.ts';
import { Conflict } from '../errors.ts';
import { createLogger, redact } from '../log.ts';
import { livePidUsing, pidFilePath } from '../store/pid-file.ts';

export interface Local {
  config: Config;
  library: AdminLibrary;
  close(): Promise<void>;
}

/**
 * The configured database opened by this process, with the same parts as the server (composed by
 * src/compose.ts), without HTTP. Refuses an embedded PGlite directory that a running server holds.
 * `factories` is for tests.
 */
export async function openLocal(config: Config, factories?: Partial<Factories>): Promise<Local> {
  if (!config.databaseUrl) {
    const pid = livePidUsing(config.dataDir);
    if (pid !== undefined) {
      throw new Conflict(
        `Ferry is running on the data directory ${config.dataDir} (pid ${pid}, see ${pidFilePath(config.dataDir)}), and its embedded database cannot be opened twice. Ask the running server instead: add --url http://<host>:<port> and the admin token (--token or FERRY_ADMIN_TOKEN), or stop the server first.`,
        'data_dir_in_use',
      );
    }
  }
  const parts = await composeParts(config, {
    log: createLogger({ level: 'warn', destination: process.stderr }),
    // The server's path (a sandbox process when the configuration has them), with one process: a
    // command runs one script at a time.
    sandbox: { poolSize: 2, maxProcesses: 1 },
    // Without the demo's legacy database the CLI still works on Ferry's own accounts, so a failure is a warning, not the end.
    onDemoFailure: (error) =>
      process.stderr.write(
        `\nWarning: the demo's sample legacy database could not start (${redact((error as Error).message)}); its users cannot be reached from this command.\n`,
      ),
    ...(factories ? { factories } : {}),
  });
  return {
    config,
    library: createAdminLibrary({ config, db: parts.db, queries: parts.queries, connection: parts.connection, audit: parts.audit }),
    close: parts.shutDown,
  };
}
