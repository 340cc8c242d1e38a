import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { startServer, type RunningServer } from '../../src/server.ts';

export const TEST_CLIENT = {
  client_id: 'test-app',
  client_secret: 'test-app-secret-that-is-long-enough',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
};

export interface TestFerry extends RunningServer {
  issuer: string;
  dataDir: string;
  redirectUri: string;
  /** Stops this server and starts a new one on the same port and data. */
  restart(): Promise<TestFerry>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts Ferry in this process on a free port with a test client; PGlite in a temporary folder
 * unless `databaseUrl` is given. The issuer is http://127.0.0.1:<port>.
 */
/** A place for a server's log: each JSON line it writes (at level info and above) is pushed here. */
export function logCollector(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}

export async function startFerry(
  overrides: Partial<ConfigInput> = {},
  reuse?: { port: number; dataDir: string },
  log?: { lines: string[] },
): Promise<TestFerry> {
  const port = reuse?.port ?? (await freePort());
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'ferry-test-'));
  // Several instances of one provider share an issuer: `overrides.issuer` names it.
  const issuer = overrides.issuer ?? `http://127.0.0.1:${port}`;
  const redirectUri = `${issuer}/test-callback`;
  const config = parseConfig({
    port,
    host: '127.0.0.1',
    dataDir,
    demo: false,
    logLevel: process.env.FERRY_TEST_LOG ?? 'silent',
    clients: [{ ...TEST_CLIENT, redirect_uris: [redirectUri], post_logout_redirect_uris: [`${issuer}/signed-out`] }],
    ...overrides,
    issuer,
  });
  const logger = log ? createLogger({ level: 'info', destination: logCollector(log.lines) }) : createLogger({ level: config.logLevel });
  const running = await startServer(config, logger);
  const ferry: TestFerry = {
    ...running,
    issuer,
    dataDir,
    redirectUri,
    async restart() {
      await running.stop();
      return startFerry(overrides, { port, dataDir }, log);
    },
  };
  return ferry;
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The SQL statements Ferry sends to its own database while `work` runs (from its database object, as the store-query metric counts them). */
export async function statementsOf(ferry: TestFerry, work: () => Promise<unknown>): Promise<string[]> {
  const db = ferry.ferry.db as { query: (sql: string, params?: readonly unknown[]) => Promise<unknown> };
  const original = db.query;
  const sent: string[] = [];
  db.query = (sql, params) => {
    sent.push(sql);
    return original.call(db, sql, params);
  };
  try {
    await work();
  } finally {
    db.query = original;
  }
  return sent;
}
