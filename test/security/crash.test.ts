import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import pg from 'pg';
import { Browser, findForm } from '../helpers/browser.ts';
import { TEST_CLIENT, freePort, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase, type LegacyUser } from '../helpers/legacy.ts';
import { beginAuthorization, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'main.ts');
/** Runs per variant: each starts a process, sends first logins and kills it mid-way (about 3 s a run: 10 keep the file near 60 s). */
const RUNS = Number(process.env.FERRY_TEST_CRASH_RUNS ?? 10);
/** Users whose first logins race in one run; the first of them logs in twice at once. */
const PER_RUN = 3;

/** Both ways a first login can store the password: Ferry's argon2id hash, or the adopted legacy bcrypt hash. */
const VARIANTS = [
  { adoptLegacyHashes: false, hash: /^\$argon2id\$/ },
  { adoptLegacyHashes: true, hash: /^\$2[aby]\$/ },
] as const;

const userOf = (variant: number, run: number, slot: number): LegacyUser => {
  const name = `crash${variant}x${run}x${slot}`;
  return { email: `${name}@example.com`, username: name, name, password: `crash password ${name}` };
};

describe('crash safety of first logins', () => {
  let legacy: LegacyDatabase;

  before(async () => {
    await postgresReachable();
    const users = VARIANTS.flatMap((_, v) =>
      Array.from({ length: RUNS + 1 }, (_, run) => Array.from({ length: PER_RUN }, (_, slot) => userOf(v, run, slot))).flat(),
    );
    legacy = await createLegacyDatabase('postgres', users);
  });
  after(async () => {
    await legacy?.drop();
  });

  for (const [v, variant] of VARIANTS.entries()) {
    describe(`with connection.adoptLegacyHashes ${variant.adoptLegacyHashes}`, () => {
      let store: Awaited<ReturnType<typeof createPostgresDatabase>>;
      let dir: string;
      let port: number;
      let child: ChildProcess | undefined;

      before(async () => {
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
            connection: {
              enabled: true,
              mode: 'LAZY_MIGRATION',
              env: { DB_CONNECTION_URI: legacy.url },
              scriptsDir: join(TEMPLATES, 'postgres'),
              adoptLegacyHashes: variant.adoptLegacyHashes,
            },
          }),
        );
      });
      after(async () => {
        child?.kill('SIGKILL');
        await store?.drop();
        rmSync(dir, { recursive: true, force: true });
      });

      async function start(): Promise<{ ferry: TestFerry; config: oidc.Configuration }> {
        child = spawn(process.execPath, ['--no-node-snapshot', MAIN, 'start'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, stdio: 'ignore' });
        const issuer = `http://127.0.0.1:${port}`;
        for (let i = 0; i < 300; i++) {
          if (
            await fetch(`${issuer}/readyz`).then(
              (r) => r.ok,
              () => false,
            )
          )
            break;
          await sleep(100);
        }
        const ferry = { issuer, url: issuer, redirectUri: `${issuer}/test-callback` } as TestFerry;
        const config = await oidc.discovery(
          new URL(issuer),
          TEST_CLIENT.client_id,
          TEST_CLIENT.client_secret,
          oidc.ClientSecretBasic(TEST_CLIENT.client_secret),
          { execute: [oidc.allowInsecureRequests] },
        );
        return { ferry, config };
      }

      async function kill(): Promise<void> {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        child!.kill('SIGKILL');
        await exited;
      }

      async function query(sql: string, params: unknown[] = []) {
        const client = new pg.Client({ connectionString: store.url });
        await client.connect();
        try {
          return (await client.query(sql, params)).rows;
        } finally {
          await client.end();
        }
      }

      /**
       * Opens a login page per login (the first user twice), then submits them all at once. A
       * login is answered when its POST gets its answer: the account is written before that.
       */
      async function firstLogins(ferry: TestFerry, config: oidc.Configuration, users: readonly LegacyUser[]) {
        const logins = [users[0]!, ...users];
        const forms = await Promise.all(
          logins.map(async (user) => {
            const browser = new Browser();
            const { page } = await beginAuthorization(ferry, config, browser);
            return { user, browser, form: findForm(page, '/login'), url: page.url };
          }),
        );
        const answeredAt: number[] = [];
        const sent = performance.now();
        let allButOne: () => void = () => {};
        const allButOneAnswered = new Promise<void>((resolve) => (allButOne = resolve));
        const pending = forms.map(({ user, browser, form, url }) =>
          browser.request(new URL(form.action, url).href, { form: { ...form.fields, identifier: user.email, password: user.password } }).then(
            () => {
              answeredAt.push(performance.now() - sent);
              if (answeredAt.length >= logins.length - 1) allButOne();
            },
            () => undefined,
          ),
        );
        return { logins, pending, answeredAt, allButOneAnswered };
      }

      /** No user has two accounts, and every account that exists is whole. */
      async function assertWholeAccounts(users: readonly LegacyUser[], when: string, hash: RegExp = variant.hash) {
        for (const user of users) {
          const rows = await query('select sub, legacy_id, password_hash, migrated_at, profile from accounts where email = $1', [user.email]);
          assert.ok(rows.length <= 1, `${when}: ${user.email} has ${rows.length} accounts`);
          for (const row of rows) {
            assert.ok(row.legacy_id && row.migrated_at && row.profile?.id !== undefined, `${when}: ${user.email} has a whole account or none`);
            assert.match(row.password_hash, hash, `${when}: ${user.email}'s password hash`);
          }
        }
        assert.deepEqual(await query('select legacy_id from accounts group by legacy_id having count(*) > 1'), [], `${when}: one account per legacy user`);
      }

      it(`survives ${RUNS} kills during concurrent first logins (the same user twice among them), and every user signs in afterwards`, async (t) => {
        let { ferry, config } = await start();
        // How long a batch of first logins takes in a fresh process on this machine now (to its
        // last answer). Each kill comes at a random moment within twice that, or as the last but
        // one login is answered, whichever is first: at least one login is always cut short.
        const warmUp = await firstLogins(
          ferry,
          config,
          Array.from({ length: PER_RUN }, (_, slot) => userOf(v, RUNS, slot)),
        );
        await Promise.all(warmUp.pending);
        const window = 2 * Math.max(...warmUp.answeredAt);
        await kill();
        ({ ferry, config } = await start());

        let written = 0;
        let answered = 0;
        for (let run = 0; run < RUNS; run++) {
          const users = Array.from({ length: PER_RUN }, (_, slot) => userOf(v, run, slot));
          const { logins, pending, answeredAt, allButOneAnswered } = await firstLogins(ferry, config, users);
          await Promise.race([sleep(Math.random() * window), allButOneAnswered]);
          const unanswered = logins.length - answeredAt.length;
          await kill();
          await Promise.all(pending);
          assert.ok(unanswered >= 1, `run ${run}: the kill came while ${unanswered} of ${logins.length} first logins were unanswered`);
          answered += logins.length - unanswered;

          await assertWholeAccounts(users, `run ${run}, after the kill`);
          written += (await query('select 1 from accounts where email = any($1)', [users.map((user) => user.email)])).length;

          ({ ferry, config } = await start());
          const retries = await Promise.all(users.map((user) => signIn(ferry, config, new Browser(), user.email, user.password)));
          for (const [slot, tokens] of retries.entries()) assert.equal(tokens.claims()!.email, users[slot]!.email, `run ${run}: the retry signs in`);
          // A kept bcrypt hash is replaced by Ferry's argon2id at the next sign-in: the retry may be that.
          await assertWholeAccounts(users, `run ${run}, after the retry`, /^\$argon2id\$|^\$2[aby]\$/);
          for (const user of users)
            assert.equal((await query('select 1 from accounts where email = $1', [user.email])).length, 1, `run ${run}: one account for ${user.email}`);
        }
        await kill();
        assert.ok(written < RUNS * PER_RUN, 'some kills landed before the account was written');
        t.diagnostic(
          `kill window ${Math.round(window)} ms; ${answered} of ${RUNS * (PER_RUN + 1)} first logins answered before their kill; ${written} of ${RUNS * PER_RUN} users had an account written when the process died`,
        );
      });
    });
  }
});
