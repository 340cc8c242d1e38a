import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, createOutageProxy, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { MYSQL_ADMIN, postgresReachable } from '../helpers/services.ts';
import mysql from 'mysql2/promise';

const USERS = [
  { email: 'alice@example.com', username: 'alice', phone: '+15550000001', name: 'Alice Liddell', password: 'alice-legacy-pw' },
  { email: 'bob@example.com', username: 'bob', name: 'Bob Kahn', password: 'bob-legacy-pw' },
  { email: 'carol@example.com', username: 'carol', name: 'Carol Shaw', password: 'carol-legacy-pw' },
  { email: 'dave@example.com', username: 'dave', name: 'Dave Real', password: 'dave-legacy-pw' },
  { email: 'erin@example.com', username: 'erin', name: 'Erin Outage', password: 'erin-legacy-pw' },
  { email: 'frank@example.com', username: 'frank', name: 'Frank Migrated', password: 'frank-legacy-pw' },
  { email: 'gina@example.com', username: 'gina', name: 'Gina Captured', password: 'gina-legacy-pw' },
];

async function reachable(kind: 'postgres' | 'mysql') {
  try {
    if (kind === 'postgres') await postgresReachable();
    else await (await mysql.createConnection(MYSQL_ADMIN)).end();
  } catch (error) {
    throw new Error(`${kind} is required for this suite: ${(error as Error).message}`);
  }
}

/** How many times a script ran, from Ferry's execution log. */
async function executions(ferry: TestFerry, script: string): Promise<number> {
  await ferry.ferry.federation.executions.flush();
  const { rows } = await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from script_executions where script = $1', [script]);
  return rows[0]!.n;
}

function lazyMigration(kind: 'postgres' | 'mysql') {
  describe(`lazy migration from ${kind}`, () => {
    let legacy: LegacyDatabase;
    let proxy: Awaited<ReturnType<typeof createOutageProxy>>;
    let ferry: TestFerry;
    let config: oidc.Configuration;

    before(async () => {
      await reachable(kind);
      legacy = await createLegacyDatabase(kind, USERS);
      proxy = await createOutageProxy({ host: legacy.host, port: legacy.port });
      const url = new URL(legacy.url);
      url.host = `127.0.0.1:${proxy.port}`;
      ferry = await startFerry({
        connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: url.href }, scriptsDir: join(TEMPLATES, kind) },
      });
      config = await relyingParty(ferry);
    });

    after(async () => {
      await ferry?.stop();
      await proxy?.close();
      await legacy?.drop();
      if (ferry) removeDataDir(ferry.dataDir);
    });

    it('migrates a user on the first sign-in and never asks the legacy database again', async () => {
      const tokens = await signIn(ferry, config, new Browser(), 'Alice@Example.com', 'alice-legacy-pw');
      const claims = tokens.claims()!;
      const [row] = await legacy.query(kind === 'postgres' ? 'select id from users where email = $1' : 'select id from users where email = ?', [
        'alice@example.com',
      ]);
      assert.equal(claims.sub, String(row!.id), 'sub is the legacy id');
      assert.equal(claims.email, 'alice@example.com');
      assert.equal(claims.name, 'Alice Liddell');
      assert.equal(claims.email_verified, true);
      assert.equal(claims.phone_number, '+15550000001');
      assert.equal(await executions(ferry, 'login'), 1);

      const account = async () =>
        (
          await ferry.ferry.db.query<{ legacy_id: string; migrated_at: Date; password_hash: string }>(
            'select legacy_id, migrated_at, password_hash from accounts where sub = $1',
            [claims.sub],
          )
        ).rows;
      const [legacyRow] = await legacy.query(kind === 'postgres' ? 'select password from users where id = $1' : 'select password from users where id = ?', [
        row!.id,
      ]);
      const migrated = await account();
      assert.equal(migrated.length, 1);
      assert.equal(migrated[0]!.legacy_id, String(row!.id));
      assert.ok(migrated[0]!.migrated_at instanceof Date);
      const ferryHash = migrated[0]!.password_hash;
      assert.match(ferryHash, /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/, "Ferry's own argon2id hash of the password just verified, from the first sign-in");
      assert.notEqual(ferryHash, legacyRow!.password);

      const again = await signIn(ferry, config, new Browser(), 'alice', 'alice-legacy-pw');
      assert.equal(again.claims()!.sub, claims.sub, 'the same subject after migration');
      const userinfo = await oidc.fetchUserInfo(config, again.access_token, claims.sub);
      assert.equal(userinfo.name, 'Alice Liddell');
      assert.equal(await executions(ferry, 'login'), 1, 'the login script ran only for the first sign-in');
      assert.equal((await account())[0]!.password_hash, ferryHash, 'the hash stays as it was made');
      const third = await signIn(ferry, config, new Browser(), 'alice@example.com', 'alice-legacy-pw');
      assert.equal(third.claims()!.sub, claims.sub);
    });

    it('keeps migrated users signing in while the legacy database is down, and answers unmigrated ones fast', async () => {
      await signIn(ferry, config, new Browser(), 'frank@example.com', 'frank-legacy-pw');
      await proxy.cut();
      try {
        const tokens = await signIn(ferry, config, new Browser(), 'frank@example.com', 'frank-legacy-pw');
        assert.equal(tokens.claims()!.email, 'frank@example.com');

        const browser = new Browser();
        const { page } = await beginAuthorization(ferry, config, browser);
        const started = Date.now();
        const answer = await browser.submit(page, '/login', { identifier: 'erin@example.com', password: 'erin-legacy-pw' });
        const took = Date.now() - started;
        assert.equal(answer.status, 503);
        assert.match(alertText(answer) ?? '', /temporarily unavailable/);
        assert.ok(took < 3000, `the unavailable answer came in ${took} ms, well inside the 10 s deadline`);
      } finally {
        await proxy.restore();
      }
      const recovered = await signIn(ferry, config, new Browser(), 'erin@example.com', 'erin-legacy-pw');
      assert.equal(recovered.claims()!.email, 'erin@example.com');
    });

    it('gives a wrong password and an unknown user the same page, status and minimum time', async () => {
      const attempt = async (identifier: string, password: string) => {
        const browser = new Browser();
        const { page } = await beginAuthorization(ferry, config, browser);
        const started = performance.now();
        const answer = await browser.submit(page, '/login', { identifier, password });
        return { answer, took: performance.now() - started };
      };
      const floor = ferry.ferry.federation.floor.floor();
      const wrong = await attempt('bob@example.com', 'not-bobs-password');
      const unknown = await attempt('nobody@example.com', 'whatever-password');
      const wrongMigrated = await attempt('alice@example.com', 'not-alices-password');
      for (const { answer } of [wrong, unknown, wrongMigrated]) {
        assert.equal(answer.status, 401);
        assert.equal(alertText(answer), 'The sign-in details you entered are not correct. Check them and try again.');
      }
      for (const { took } of [wrong, unknown, wrongMigrated]) assert.ok(took >= floor, `every failure waits out the floor (took ${took} ms)`);
      assert.doesNotMatch(unknown.answer.html + wrong.answer.html, /User not exists|Password is not valid/, "the script's words stay in the log");
    });

    it('refuses a registration whose email the legacy database still holds, and allows a new one', async () => {
      const taken = await registerThroughForm(ferry, config, new Browser(), { email: 'bob@example.com', password: 'a brand new password' });
      assert.equal(taken.result.status, 409);
      assert.match(alertText(taken.result) ?? '', /already exists/);
      assert.ok((await executions(ferry, 'getUser')) >= 1, 'getUser was asked');

      const fresh = await registerThroughForm(ferry, config, new Browser(), { email: 'newcomer@example.com', password: 'a brand new password' });
      assert.ok(fresh.result.url.startsWith(ferry.redirectUri), `registered: ${alertText(fresh.result) ?? fresh.result.url}`);
      const tokens = await signIn(ferry, config, new Browser(), 'newcomer@example.com', 'a brand new password');
      assert.equal(tokens.claims()!.email, 'newcomer@example.com');
    });

    it('makes exactly one account when 50 first sign-ins of one user race', async () => {
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => signIn(ferry, config, new Browser(), 'carol@example.com', 'carol-legacy-pw')));
      const failures = results.filter((result) => result.status === 'rejected');
      assert.equal(failures.length, 0, `every sign-in succeeded: ${failures.map((f) => String((f as PromiseRejectedResult).reason)).join('\n')}`);
      const subs = new Set(
        results.map((result) => (result as PromiseFulfilledResult<oidc.TokenEndpointResponse & { claims(): oidc.IDToken | undefined }>).value.claims()!.sub),
      );
      assert.equal(subs.size, 1);
      const { rows } = await ferry.ferry.db.query<{ n: number }>("select count(*)::int as n from accounts where email = 'carol@example.com'");
      assert.equal(rows[0]!.n, 1, 'one account, guaranteed by the database');
      // 50 executions, each with its own share of the deadline left after waiting for a turn, all
      // took their connections from one pool of at most poolSize (10) connections.
      const metrics = await (await fetch(`${ferry.issuer}/metrics`)).text();
      const driver = kind === 'postgres' ? 'pg' : 'mysql';
      const total = Number(new RegExp(`ferry_legacy_pool_connections\\{driver="${driver}",state="total"\\} (\\d+)`).exec(metrics)?.[1]);
      assert.ok(total >= 1 && total <= 10, `legacy connections open after the race: ${total}`);
    });

    /** The legacy id of a user, and the conflicts recorded for it. */
    const legacyIdOf = async (email: string) =>
      String((await legacy.query(kind === 'postgres' ? 'select id from users where email = $1' : 'select id from users where email = ?', [email]))[0]!.id);
    const conflictsOf = async (legacyId: string) =>
      (await ferry.ferry.db.query<{ n: number }>("select count(*)::int as n from migration_failures where kind = 'conflict' and legacy_id = $1", [legacyId]))
        .rows[0]!.n;

    it('fails closed when the identifier typed belongs to an account someone registered first (the legacy password is not theirs)', async () => {
      // Someone registered gina's email before the connection was enabled, with a password of their own.
      await ferry.ferry.federation.directory.create({ email: 'gina@example.com', password: 'attacker password 1' });
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      const answer = await browser.submit(page, '/login', { identifier: 'gina@example.com', password: 'gina-legacy-pw' });
      assert.equal(answer.status, 503, 'no sign-in');
      assert.equal(alertText(answer), 'This account cannot be signed in to yet. Please contact support.');
      assert.equal(await conflictsOf(await legacyIdOf('gina@example.com')), 1, 'the conflict is recorded');
      const { rows: accounts } = await ferry.ferry.db.query<{ legacy_id: string | null }>("select legacy_id from accounts where email = 'gina@example.com'");
      assert.deepEqual(accounts, [{ legacy_id: null }], 'the pre-registered account did not capture the legacy user');
    });

    it('fails closed when the migrated profile holds an email another account already has', async () => {
      await ferry.ferry.federation.directory.create({ email: 'dave@example.com', password: 'attacker password 2' });
      const before = (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts')).rows[0]!.n;
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      // By username: no local account has it, so the login script verifies dave and the migration
      // meets the pre-registered email.
      const answer = await browser.submit(page, '/login', { identifier: 'dave', password: 'dave-legacy-pw' });
      assert.equal(answer.status, 403);
      assert.equal(alertText(answer), 'This account cannot be signed in to yet. Please contact support.');
      const legacyId = await legacyIdOf('dave@example.com');
      assert.equal(await conflictsOf(legacyId), 1, 'the conflict is recorded');
      const after = (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts')).rows[0]!.n;
      assert.equal(after, before, 'no account was made');
      const { rows } = await ferry.ferry.db.query('select 1 from accounts where legacy_id = $1 or username = $2', [legacyId, 'dave']);
      assert.equal(rows.length, 0);
    });
  });
}

lazyMigration('postgres');
lazyMigration('mysql');

describe('lazy migration adopting legacy hashes (connection.adoptLegacyHashes: true)', () => {
  it("keeps the verified bcrypt hash until the next sign-in replaces it with Ferry's argon2id", async () => {
    await reachable('postgres');
    const legacy = await createLegacyDatabase('postgres', USERS.slice(0, 1));
    const ferry = await startFerry({
      connection: {
        enabled: true,
        mode: 'LAZY_MIGRATION',
        adoptLegacyHashes: true,
        env: { DB_CONNECTION_URI: legacy.url },
        scriptsDir: join(TEMPLATES, 'postgres'),
      },
    });
    try {
      const config = await relyingParty(ferry);
      const tokens = await signIn(ferry, config, new Browser(), 'alice@example.com', 'alice-legacy-pw');
      const hash = async () =>
        (await ferry.ferry.db.query<{ password_hash: string }>('select password_hash from accounts where sub = $1', [tokens.claims()!.sub])).rows[0]!
          .password_hash;
      const [legacyRow] = await legacy.query('select password from users where email = $1', ['alice@example.com']);
      assert.equal(await hash(), legacyRow!.password, 'the bcrypt hash the script verified is adopted for now');
      await signIn(ferry, config, new Browser(), 'alice', 'alice-legacy-pw');
      assert.match(await hash(), /^\$argon2id\$v=19\$m=19456,p=1,t=2\$/, "Ferry's own argon2id hash from the second sign-in on");
      assert.equal(await executions(ferry, 'login'), 1, 'the second sign-in was checked locally');
    } finally {
      await ferry.stop();
      await legacy.drop();
      removeDataDir(ferry.dataDir);
    }
  });
});
