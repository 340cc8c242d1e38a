import { createAccountLibrary } from './accounts/library.ts';
import { createAuditLog, type AuditLog } from './audit/index.ts';
import { createPasswordHasher } from './accounts/passwords.ts';
import type { Config } from './config/schema.ts';
import { createConnection, type ConnectionParts as Connection } from './connection/index.ts';
import { startLegacyDemo, withLegacyDemo, type LegacyDemo } from './demo/legacy-db.ts';
import type { Logger } from './log.ts';
import { createMail, type Mail } from './mail/index.ts';
import type { Metrics } from './ops/metrics.ts';
import { createSandbox, type Sandbox, sandboxProcessOptions, storeAddress } from './sandbox/index.ts';
import { countedDatabase } from './store/counted.ts';
import { openDatabase, type Database } from './store/index.ts';
import { createQueries } from './store/queries/index.ts';

/** The constructors of the parts that hold resources; tests pass fakes here (no module mocking). */
export const defaultFactories = { openDatabase, createSandbox, startLegacyDemo, createMail, createConnection };
export type Factories = typeof defaultFactories;

export interface ComposeOptions {
  log: Logger;
  sandbox: {
    /** Isolates per pool (the server's default gives way to the configuration's; the CLI needs 2). */
    poolSize: number;
    /** At most this many sandbox processes (the CLI runs one script at a time). */
    maxProcesses?: number;
    /** The port Ferry listens on, for scripts that call Ferry itself (the server only). */
    ferryPort?: () => number | undefined;
  };
  /** Given by the server; the CLI keeps no metrics. */
  metrics?: Metrics;
  /** Without it a demo legacy database that cannot start fails the composition (the server); the CLI warns and goes on. */
  onDemoFailure?: (error: unknown) => void;
  factories?: Partial<Factories>;
}

/**
 * The one place Ferry's parts are built and wired, for the server (src/app.ts), the CLI
 * (src/cli/local.ts) and so the tests: the database, its queries, passwords and accounts, the
 * sandbox, the demo's legacy database, mail and the custom-database connection. `shutDown()` stops
 * them in the order written below, once; what a caller starts on top (the server's timers) it
 * registers with `onShutDown`, which runs first.
 */
export async function composeParts(config: Config, options: ComposeOptions) {
  const make = { ...defaultFactories, ...options.factories };
  const { log, metrics } = options;
  const first: Array<() => unknown> = [];
  // Filled as parts come up, so a failure half-way stops what was already started.
  const made: { db?: Database; sandbox?: Sandbox; legacyDemo?: LegacyDemo; mail?: Mail; connection?: Connection; audit?: AuditLog } = {};
  const stopAll = async () => {
    for (const stop of first) await stop();
    // THE shutdown order: in-flight mail, then the execution log's and the audit log's last rows, then the scripts'
    // processes, then the legacy database they may use, then Ferry's database everything wrote to.
    // A part with a stop() is one line here.
    await made.mail?.stop();
    await made.connection?.sweep.stop();
    await made.connection?.executions.close();
    await made.audit?.close();
    await made.sandbox?.close();
    await made.legacyDemo?.close();
    await made.db?.close();
  };
  let stopping: Promise<void> | undefined;
  const shutDown = () => (stopping ??= stopAll());

  try {
    const opened = await make.openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, preparedStatements: config.databasePreparedStatements });
    made.db = opened;
    const db = metrics ? countedDatabase(opened, { queries: metrics.storeQueries, transactions: metrics.storeTransactions }) : opened;
    const queries = createQueries(db);
    const audit = createAuditLog(queries.audit, log, config.audit);
    made.audit = audit;
    const hasher = createPasswordHasher();
    const accounts = createAccountLibrary({ queries: queries.accounts, hasher, policy: config.passwordPolicy, subjectPrefix: config.subjectPrefix });
    const processes =
      options.sandbox.maxProcesses === undefined ? config : { ...config, sandboxProcesses: Math.min(options.sandbox.maxProcesses, config.sandboxProcesses) };
    const sandbox = make.createSandbox({
      log,
      ...(options.sandbox.ferryPort ? { ferryPort: options.sandbox.ferryPort } : {}),
      store: storeAddress(config.databaseUrl),
      ...sandboxProcessOptions(processes, options.sandbox.poolSize),
    });
    made.sandbox = sandbox;
    // The zero-configuration demo signs in from its sample legacy database.
    let legacyDemo: LegacyDemo | undefined;
    if (config.demo && !config.connection.enabled) {
      const demoFailure = options.onDemoFailure;
      legacyDemo = demoFailure
        ? await make.startLegacyDemo(config.dataDir).catch((error: unknown) => void demoFailure(error))
        : await make.startLegacyDemo(config.dataDir);
    }
    if (legacyDemo) made.legacyDemo = legacyDemo;
    const effective = withLegacyDemo(config, legacyDemo);
    const mail = make.createMail({ config: config.mail, issuer: config.issuer, db, log, metrics });
    made.mail = mail;
    const connection = make.createConnection({ config: effective, queries, accounts, hasher, sandbox, metrics, log, audit });
    made.connection = connection;
    return {
      config,
      /** The configuration with the demo's legacy database filled in as the connection. */
      effective,
      db,
      queries,
      hasher,
      accounts,
      sandbox,
      legacyDemo,
      mail,
      connection,
      audit,
      /** Runs `stop` first at shutdown (before any part), in the order added. */
      onShutDown(stop: () => unknown) {
        first.push(stop);
      },
      shutDown,
    };
  } catch (error) {
    await shutDown();
    throw error;
  }
}

export type Parts = Awaited<ReturnType<typeof composeParts>>;
