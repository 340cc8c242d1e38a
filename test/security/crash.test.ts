import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import pg from 'pg';
import { Browser } from '../helpers/browser.ts';
import { TEST_CLIENT, freePort, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
const RUNS = 10;
const users = Array.from({ length: RUNS }, (_, i) => ({ email: `crash${i}@example.com`, username: `crash${i}`, name: `Crash ${i}`, password: `crash password ${i}` }));

describe('crash safety of first logins', () => {
  let legacy: LegacyDatabase;
  let store: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let dir: string;
  let port: number;
  let child: ChildProcess | undefined;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', users);
    store = await createPostgresDatabase();
    dir = mkdtempSync(join(tmpdir(), 'ferry-crash-'));
    port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'ferry.config.json'),
      JSON.stringify({
        issuer,
        port,
        host: '127.0.0.1',
        databaseUrl: store.url,
        logLevel: 'silent',
        clients: [{ ...TEST_CLIENT, redirect_uris: [`${issuer}/test-callback`], skip_consent: true }],
        connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
      }),
    );
  });

  after(async () => {
    child?.kill('SIGKILL');
    await legacy?.drop();
    await store?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<TestFerry> {
    child = spawn(process.execPath, ['--no-node-snapshot', MAIN, 'start'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
    const issuer = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 300; i++) {
      if (await fetch(`${issuer}/readyz`).then((r) => r.ok, () => false)) break;
      await sleep(100);
    }
    return { issuer, url: issuer, redirectUri: `${issuer}/test-callback` } as TestFerry;
  }

  async function kill(): Promise<void> {
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGKILL');
    await exited;
  }

  async function accountsOf(email: string) {
    const client = new pg.Client({ connectionString: store.url });
    await client.connect();
    try {
      return (await client.query('select sub, legacy_id, password_hash, migrated_at, profile from accounts where email = $1', [email])).rows;
    } finally {
      await client.end();
    }
  }

  it('leaves no duplicate or partial account wherever the process dies, and the retry succeeds', async (t) => {
    let migratedBeforeCrash = 0;
    for (let run = 0; run < RUNS; run++) {
      const ferry = await start();
      const config = await oidc.discovery(new URL(ferry.issuer), TEST_CLIENT.client_id, TEST_CLIENT.client_secret, oidc.ClientSecretBasic(TEST_CLIENT.client_secret), { execute: [oidc.allowInsecureRequests] });
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      // Submit the first login and kill the process somewhere in the middle of it: during the
      // script's query, its bcrypt, Ferry's argon2 hash, or the INSERT.
      const pending = browser.submit(page, '/login', { identifier: users[run]!.email, password: users[run]!.password }).catch(() => undefined);
      await sleep(Math.random() * 250);
      await kill();
      await pending;

      const afterCrash = await accountsOf(users[run]!.email);
      assert.ok(afterCrash.length <= 1, `run ${run}: at most one account`);
      migratedBeforeCrash += afterCrash.length;
      for (const row of afterCrash) {
        assert.ok(row.password_hash && row.legacy_id && row.migrated_at && row.profile.id !== undefined, `run ${run}: a whole account or none`);
      }

      const restarted = await start();
      const tokens = await signIn(restarted, config, new Browser(), users[run]!.email, users[run]!.password);
      assert.equal(tokens.claims()!.email, users[run]!.email, `run ${run}: the retry signs in`);
      assert.equal((await accountsOf(users[run]!.email)).length, 1, `run ${run}: exactly one account after the retry`);
      await kill();
    }
    t.diagnostic(`${migratedBeforeCrash} of ${RUNS} kills came after the account was written, ${RUNS - migratedBeforeCrash} before`);
  });
});
