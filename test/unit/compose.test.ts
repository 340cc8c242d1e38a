import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createFerry } from '../../src/app.ts';
import { openLocal } from '../../src/cli/local.ts';
import { composeParts, defaultFactories, type Factories } from '../../src/compose.ts';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';

const SHUTDOWN_ORDER = ['mail', 'sweep', 'executions', 'sandbox', 'legacyDemo', 'db'];
const log = createLogger({ level: 'silent' });

function configIn(dataDir: string, demo: boolean) {
  return parseConfig({ port: 0, host: '127.0.0.1', issuer: 'http://127.0.0.1:9', dataDir, demo, logLevel: 'silent' });
}

/** Parts that only record when they are closed, through the same factories the real ones come from. */
function fakeFactories(closed: string[], legacyDemo: () => Promise<unknown> = async () => undefined): Partial<Factories> {
  const closing = (name: string) => async () => void closed.push(name);
  return {
    openDatabase: (async () => ({ kind: 'pglite', close: closing('db') })) as unknown as Factories['openDatabase'],
    createSandbox: (() => ({ close: closing('sandbox') })) as unknown as Factories['createSandbox'],
    startLegacyDemo: (async () => {
      await legacyDemo();
      return { url: 'postgres://legacy', close: closing('legacyDemo') };
    }) as unknown as Factories['startLegacyDemo'],
    createMail: (() => ({ stop: closing('mail') })) as unknown as Factories['createMail'],
    createConnection: (() => ({ sweep: { stop: closing('sweep') }, executions: { close: closing('executions') } })) as unknown as Factories['createConnection'],
  };
}

/** The real parts, each recording its close before doing it. */
function recordingFactories(closed: string[]): Partial<Factories> {
  const record = <T extends object>(name: string, target: T, method: keyof T) => {
    const original = (target[method] as () => Promise<void>).bind(target);
    (target as Record<keyof T, unknown>)[method] = async () => {
      closed.push(name);
      await original();
    };
    return target;
  };
  return {
    openDatabase: async (options) => record('db', await defaultFactories.openDatabase(options), 'close'),
    createSandbox: (options) => record('sandbox', defaultFactories.createSandbox(options), 'close'),
    createMail: (deps) => record('mail', defaultFactories.createMail(deps), 'stop'),
    createConnection: (deps) => {
      const connection = defaultFactories.createConnection(deps);
      record('sweep', connection.sweep, 'stop');
      record('executions', connection.executions, 'close');
      return connection;
    },
  };
}

describe('composition root', () => {
  it('shuts every part down once, in the written order, after what the caller registered; a second shutDown is harmless', async () => {
    const closed: string[] = [];
    const parts = await composeParts(configIn('/nonexistent', true), { log, sandbox: { poolSize: 2 }, factories: fakeFactories(closed) });
    parts.onShutDown(() => void closed.push('timers'));
    await Promise.all([parts.shutDown(), parts.shutDown()]);
    await parts.shutDown();
    assert.deepEqual(closed, ['timers', ...SHUTDOWN_ORDER]);
  });

  it('opens the database as the configuration says, prepared statements included', async () => {
    for (const databasePreparedStatements of [true, false]) {
      const seen: unknown[] = [];
      const config = parseConfig({
        port: 0,
        host: '127.0.0.1',
        issuer: 'http://127.0.0.1:9',
        dataDir: '/nonexistent',
        demo: false,
        logLevel: 'silent',
        databasePreparedStatements,
      });
      const factories = fakeFactories([]);
      const fake = factories.openDatabase!;
      factories.openDatabase = (options) => {
        seen.push(options);
        return fake(options);
      };
      const parts = await composeParts(config, { log, sandbox: { poolSize: 2 }, factories });
      await parts.shutDown();
      assert.deepEqual(seen, [{ databaseUrl: undefined, dataDir: '/nonexistent', preparedStatements: databasePreparedStatements }]);
    }
  });

  it('stops what was already started when a part fails to come up, unless the caller lets the demo database fail', async () => {
    const closed: string[] = [];
    const down = () => Promise.reject(new Error('demo database down'));
    await assert.rejects(
      composeParts(configIn('/nonexistent', true), { log, sandbox: { poolSize: 2 }, factories: fakeFactories(closed, down) }),
      /demo database down/,
    );
    assert.deepEqual(closed, ['sandbox', 'db']);

    closed.length = 0;
    const warned: unknown[] = [];
    const parts = await composeParts(configIn('/nonexistent', true), {
      log,
      sandbox: { poolSize: 2 },
      onDemoFailure: (error) => warned.push(error),
      factories: fakeFactories(closed, down),
    });
    assert.equal(parts.legacyDemo, undefined);
    assert.equal(warned.length, 1);
    await parts.shutDown();
    assert.deepEqual(
      closed,
      SHUTDOWN_ORDER.filter((name) => name !== 'legacyDemo'),
    );
  });

  it('gives the CLI and the server the same parts, closed in the same order', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-compose-'));
    try {
      const config = configIn(dataDir, false);
      const cli: string[] = [];
      const local = await openLocal(config, recordingFactories(cli));
      assert.equal((await local.library.connection.view()).enabled, false);
      await local.close();
      await local.close();

      const server: string[] = [];
      const ferry = await createFerry(config, log, recordingFactories(server));
      await ferry.close();
      await ferry.close();

      const withoutDemo = SHUTDOWN_ORDER.filter((name) => name !== 'legacyDemo');
      assert.deepEqual(cli, withoutDemo);
      assert.deepEqual(server, withoutDemo);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
