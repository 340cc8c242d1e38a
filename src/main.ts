#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { loadConfig } from './config/load.ts';
import { DEMO_USERS } from './demo/legacy-db.ts';
import { resolveAdminToken } from './admin/index.ts';
import { ConfigError } from './errors.ts';
import { exitWhenIdle } from './exit.ts';
import { createLogger } from './log.ts';
import { startServer } from './server.ts';
import { describeDatabase } from './store/index.ts';

/** `ferry start`: load and check the configuration, open the database, serve, stop on SIGTERM. */
export async function start(): Promise<void> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig();
  } catch (error) {
    return fail(error);
  }
  const { config, file } = loaded;
  const log = createLogger({ level: config.logLevel });
  // The first start of the embedded database runs initdb (and, for the demo, a second one for the
  // sample legacy database): 20–30 s in which nothing else would be printed.
  const firstStart = !config.databaseUrl && !existsSync(config.dataDir);
  log.info(
    { database: describeDatabase(config), config: file ?? null, firstStart },
    firstStart ? `starting: creating the embedded database in ${config.dataDir} (first start only, about 30 s)` : 'starting',
  );
  if (config.demo && firstStart)
    process.stdout.write(`\n  Starting Ferry: creating its embedded databases in ${config.dataDir} (first start only, about 30 s)…\n\n`);
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config, log);
  } catch (error) {
    return fail(error, `Ferry could not start with ${describeDatabase(config)}`);
  }
  const consoleUrl = config.adminToken || config.demo ? `${config.issuer}/console` : null;
  log.info(
    {
      issuer: config.issuer,
      url: running.url,
      database: running.ferry.db.kind,
      config: file ?? null,
      console: consoleUrl ?? 'off: set adminToken to serve the console and the admin API',
    },
    'ferry started',
  );
  if (config.demo)
    printDemoBanner(
      config.issuer,
      !config.connection.enabled,
      config.adminToken ? 'configured' : await resolveAdminToken(config, running.ferry.db),
      !running.ferry.mail.enabled,
    );
  else if (process.stdout.isTTY) printBanner(config.issuer, consoleUrl);

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    running.stop().then(
      () => exitWhenIdle(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        exitWhenIdle(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/** Outside the demo the log lines are JSON; a person at a terminal also gets where to go next. */
function printBanner(issuer: string, consoleUrl: string | null): void {
  process.stdout.write(
    [
      '',
      `  Ferry is running at ${issuer}`,
      `  Discovery: ${issuer}/.well-known/openid-configuration`,
      consoleUrl
        ? `  Console:   open ${consoleUrl} and sign in with your adminToken`
        : '  Console:   off (set adminToken to serve the console and the admin API)',
      '',
    ].join('\n') + '\n',
  );
}

/** `adminToken`: the token the demo generated, or 'configured' when the configuration has one (never printed). */
function printDemoBanner(issuer: string, legacyDemo: boolean, adminToken: string | undefined, mailHeld: boolean): void {
  const users = legacyDemo
    ? [
        '  Users of the sample legacy database (each is migrated into Ferry on its first sign-in):',
        ...DEMO_USERS.map((user) => `             ${user.email.padEnd(20)} password ${user.password}`),
      ]
    : ['             (no account yet? choose "Create an account" on the sign-in page)'];
  process.stdout.write(
    [
      '',
      `  Ferry is running at ${issuer}`,
      `  Try it:    open ${issuer}/demo and choose "Sign in with Ferry"`,
      ...users,
      `  Discovery: ${issuer}/.well-known/openid-configuration`,
      ...(adminToken === 'configured'
        ? [`  Console:   open ${issuer}/console and sign in with your adminToken`]
        : adminToken
          ? [
              `  Console:   open ${issuer}/console and sign in with the admin token`,
              `             ${adminToken}`,
              `             (also the bearer token of the admin API at ${issuer}/api/v1)`,
            ]
          : []),
      ...(mailHeld ? [`  Mail:      no SMTP server configured; mails (password reset links) wait in ${issuer}/console/outbox`] : []),
      '',
    ].join('\n') + '\n',
  );
}

function fail(error: unknown, context?: string): void {
  const message = error instanceof ConfigError ? error.message : `${context ?? 'Ferry could not start'}: ${(error as Error).message}`;
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}

if (import.meta.main) {
  const command = process.argv[2] ?? 'start';
  if (command === 'start') await start();
  else {
    process.stderr.write(`Unknown command "${command}". Use: start\n`);
    process.exitCode = 2;
  }
}
