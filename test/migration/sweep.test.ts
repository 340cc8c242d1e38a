import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { subjectOf } from '../../src/accounts/subject.ts';
import { createAccountQueries } from '../../src/store/queries/accounts.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'ferry.js');
const N = 20;
const PAGE = 2;
const USERS = Array.from({ length: N }, (_, i) => ({
  email: `user${i}@legacy.example`,
  username: `user${i}`,
  name: `User ${i}`,
  password: `legacy-password-${i}`,
}));
/** Signed in (lazy migration) before the sweep. */
const MIGRATED = [0, 7, 13];
/** Their email belongs to a Ferry account someone else registered first. */
const CONFLICTED = 5;
/** Their hash in the legacy database is WordPress's phpass ($P$), made by passlib. */
const PHPASS = [3, 8, 16];
/** No password in the legacy database: imported without one (password reset sets it). */
const NO_PASSWORD = 11;

/** The template's listUsers, plus the one line that lets Ferry finish the migration: passwordHash. */
function listUsersWithHashes(): string {
  const source = readFileSync(join(TEMPLATES, 'postgres', 'listUsers.js'), 'utf8');
  const withColumn = source.replace('website, updated_at`;', 'website, updated_at, password`;');
  const withField = withColumn.replace('updatedAt: user.updated_at,', 'updatedAt: user.updated_at,\n      passwordHash: user.password || undefined,');
  assert.notEqual(withField, withColumn, 'the template still has the line the test extends');
  assert.notEqual(withColumn, source);
  return withField;
}

function phpassHashes(passwords: string[]): string[] {
  const script = "import json, sys\nfrom passlib.hash import phpass\nprint(json.dumps([phpass.using(ident='P', rounds=8).hash(p) for p in sys.argv[1:]]))";
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...passwords], { encoding: 'utf8' })) as string[];
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the sweep imports every legacy user who never signed in, survives a crash, and lets the legacy database be retired', () => {
  let legacy: LegacyDatabase;
  let store: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let ferry: TestFerry;
  let api: ReturnType<typeof adminClient>;
  let cwd: string;
  let legacyIds: string[];
  const log = { lines: [] as string[] };

  const query = async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await ferry.ferry.db.query<T>(sql, params)).rows;
  const sub = (id: string) => subjectOf(ferry.ferry.config.subjectPrefix, id);
  const sweepDone = async (until = Date.now() + 90_000) => {
    for (;;) {
      const status = (await api.get('/migration/sweep')).body;
      if (status.state !== 'running') return status;
      // Nobody holds it (its holder died and the lease ran out): POST takes it up here at once; the server's watcher would, later.
      if (!status.runningOn) await api.post('/migration/sweep', {});
      assert.ok(Date.now() < until, `the sweep finishes (${JSON.stringify(status)})`);
      await wait(500);
    }
  };

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', USERS);
    const rows = await legacy.users();
    legacyIds = rows.map((row) => String(row.id));
    const hashes = phpassHashes(PHPASS.map((i) => USERS[i]!.password));
    for (const [k, i] of PHPASS.entries()) await legacy.query('update users set password = $1 where id = $2', [hashes[k], legacyIds[i]]);
    await legacy.query('update users set password = null where id = $1', [legacyIds[NO_PASSWORD]]);

    store = await createPostgresDatabase('ferry_sweep');
    cwd = mkdtempSync(join(tmpdir(), 'ferry-sweep-'));
    const scriptsDir = join(cwd, 'hooks');
    execFileSync('mkdir', ['-p', scriptsDir]);
    for (const name of ['login', 'getUser']) copyFileSync(join(TEMPLATES, 'postgres', `${name}.js`), join(scriptsDir, `${name}.js`));
    writeFileSync(join(scriptsDir, 'listUsers.js'), listUsersWithHashes());
    const connection = { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir };
    // The CLI process and the server share Ferry's PostgreSQL database, as two instances would.
    writeFileSync(join(cwd, 'ferry.config.json'), JSON.stringify({ databaseUrl: store.url, dataDir: join(cwd, 'data'), adminToken: ADMIN_TOKEN, connection }));
    ferry = await startFerry(
      { databaseUrl: store.url, adminToken: ADMIN_TOKEN, connection, bruteForce: { account: { freeFailures: 1000 }, ip: { freeFailures: 1000 } } } as never,
      undefined,
      log,
    );
    api = adminClient(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await legacy?.drop().catch(() => {});
    await store?.drop();
    if (cwd) removeDataDir(cwd);
  });

  it('imports the users still only in the legacy database, resuming after the sweeping process is killed, without duplicates', async () => {
    for (const [n, i] of MIGRATED.entries()) {
      const outcome = await ferry.ferry.federation.signIn.signIn(USERS[i]!.email, USERS[i]!.password, { ip: `10.9.0.${n + 1}` });
      assert.ok(outcome.ok, `user ${i} migrates by signing in`);
    }
    await createAccountQueries(ferry.ferry.db).insert({ id: randomUUID(), sub: 'registered-first', email: USERS[CONFLICTED]!.email, profile: {} });

    // A sweep in another process (the CLI), killed with SIGKILL after a few pages: a crash, not a stop.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FERRY_')));
    const child = spawn(process.execPath, [BIN, 'migration', 'sweep', '--page-size', String(PAGE), '--delay-ms', '300', '--lease-seconds', '5'], {
      cwd,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let before: { next_page: number; started_at: Date; lease_owner: string | null } | undefined;
    let holder: string | null = null;
    for (const until = Date.now() + 60_000; Date.now() < until; await wait(50)) {
      [before] = await query<{ next_page: number; started_at: Date; lease_owner: string | null }>(
        'select next_page, started_at, lease_owner from migration_sweeps',
      );
      if (before && before.next_page >= 2 && holder === null) {
        // Asked to sweep while the CLI holds the lease, the server only reports: one instance at a time.
        holder = before.lease_owner;
        const asked = await api.post('/migration/sweep', {});
        assert.equal(asked.body.runningOn, holder, 'the server names the instance that runs it');
      }
      if (holder !== null) assert.equal(before?.lease_owner, holder, 'the lease stays with the CLI while it renews it');
      if (before && before.next_page >= 4) break;
    }
    assert.ok(before && before.next_page >= 4, `the CLI swept some pages: ${stderr}`);
    // bin/ferry.js runs the command in a child process: the one to kill is the lease holder (host:pid:…).
    const pid = Number(/:(\d+):/.exec(before.lease_owner ?? '')?.[1]);
    assert.notEqual(pid, child.pid, 'the lease is held by the process doing the work');
    process.kill(pid, 'SIGKILL');
    await exited;
    assert.equal(child.exitCode, null, 'the launcher passed the SIGKILL on');
    assert.match(stderr, /^running: page \d+, \d+ (of 20 )?listed/m, 'the CLI shows its progress');
    const [cut] = await query<{ next_page: number; state: string }>('select next_page, state from migration_sweeps');
    assert.equal(cut!.state, 'running', 'a crash leaves the sweep running, for another instance to take up');
    assert.ok(cut!.next_page < N / PAGE + 1, 'killed before the end');

    const done = await sweepDone();
    assert.equal(done.state, 'done', JSON.stringify(done));
    const [after] = await query<{ started_at: Date }>('select started_at from migration_sweeps');
    assert.equal(after!.started_at.getTime(), before.started_at.getTime(), 'the same sweep resumed; it did not start over');
    assert.ok(done.seen <= N + PAGE, `at most the page in hand at the crash was read twice (seen ${done.seen})`);

    const accounts = await query<{ legacy_id: string; sub: string; password_hash: string | null; swept_at: Date | null; migrated_at: Date | null }>(
      'select legacy_id, sub, password_hash, swept_at, migrated_at from accounts where legacy_id is not null',
    );
    assert.equal(accounts.length, N - 1, 'everyone but the conflicted user is in Ferry');
    assert.equal(new Set(accounts.map((row) => row.legacy_id)).size, accounts.length, 'no legacy id twice');
    assert.equal(accounts.filter((row) => row.swept_at).length, N - 1 - MIGRATED.length);
    for (const row of accounts) assert.equal(row.sub, sub(row.legacy_id), 'the subject a lazy migration would have given');
    const byId = new Map(accounts.map((row) => [row.legacy_id, row]));
    for (const i of PHPASS) assert.match(byId.get(legacyIds[i]!)!.password_hash ?? '', /^\$P\$/, `user ${i} keeps the legacy phpass hash`);
    assert.match(byId.get(legacyIds[1]!)!.password_hash ?? '', /^\$2[aby]\$10\$/, 'a bcrypt hash is kept as it is');
    assert.equal(byId.get(legacyIds[NO_PASSWORD]!)!.password_hash, null);
    for (const i of MIGRATED) assert.ok(byId.get(legacyIds[i]!)!.migrated_at, `user ${i} stays a sign-in migration`);
    assert.ok(!byId.has(legacyIds[CONFLICTED]!));
    assert.ok(
      done.failures.some(
        (failure: { id?: string; error: string }) => failure.id === legacyIds[CONFLICTED] && /email .* already belongs to another account/.test(failure.error),
      ),
      JSON.stringify(done.failures),
    );

    const status = (await api.get('/migration')).body;
    assert.deepEqual(
      { bySignIn: status.bySignIn, imported: status.imported, swept: status.swept, legacyTotal: status.legacyTotal, remaining: status.remaining },
      { bySignIn: MIGRATED.length, imported: 0, swept: N - 1 - MIGRATED.length, legacyTotal: N, remaining: 1 },
    );
  });

  it('refuses to retire the legacy database while a user remains only there, unless confirmed', async () => {
    const refused = await api.post('/migration/retire', {});
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, 'users_remaining');
    assert.match(refused.body.message, /1 user is still only in the legacy database/);
    assert.equal((await api.get('/connection')).body.enabled, true, 'the connection stays on');
    assert.ok(!log.lines.some((line) => line.includes('legacy database retired')));
  });

  it('takes up the last user once the conflict is resolved, retires the legacy database, and every account signs in without it', async () => {
    await query("delete from accounts where sub = 'registered-first'");
    const again = await api.post('/migration/sweep', { pageSize: 5 });
    assert.equal(again.status, 200, again.text);
    const done = await sweepDone();
    assert.deepEqual([done.state, done.created, done.skipped, done.failed, done.nextPage], ['done', 1, N - 1, 0, N / 5 + 1]);
    assert.equal((await api.get('/migration')).body.remaining, 0);

    const retired = await api.post('/migration/retire', {});
    assert.equal(retired.status, 200, retired.text);
    assert.deepEqual([retired.body.forced, retired.body.remaining, retired.body.by], [false, 0, 'api']);
    assert.equal((await api.get('/connection')).body.enabled, false);
    assert.ok(log.lines.some((line) => line.includes('legacy database retired: every legacy user is in Ferry')));
    assert.equal((await api.get('/migration')).body.retired.at, retired.body.at);

    await legacy.drop();
    const config = await relyingParty(ferry);
    // Through the OIDC flow: a swept bcrypt user, swept phpass users, a user migrated by sign-in, the late one.
    for (const i of [1, PHPASS[0]!, PHPASS[2]!, MIGRATED[1]!, CONFLICTED]) {
      const tokens = await signIn(ferry, config, new Browser(), USERS[i]!.email, USERS[i]!.password);
      assert.equal(tokens.claims()!.sub, sub(legacyIds[i]!), `user ${i} signs in with the legacy password`);
    }
    const [upgraded] = await query<{ password_hash: string }>('select password_hash from accounts where legacy_id = $1', [legacyIds[PHPASS[0]!]]);
    assert.match(upgraded!.password_hash, /^\$argon2id\$/, 'the phpass hash was replaced at the first sign-in');
    for (const [n, user] of USERS.entries()) {
      if (n === NO_PASSWORD) continue;
      const outcome = await ferry.ferry.federation.signIn.signIn(user.email, user.password, { ip: `10.9.1.${n + 1}` });
      assert.ok(outcome.ok, `user ${n} signs in after the retirement`);
    }
    // Registration no longer asks getUser: with the legacy database gone it would be unavailable.
    const registered = await registerThroughForm(ferry, config, new Browser(), { email: 'newcomer@example.com', password: 'a new password 123' });
    assert.ok(registered.result.url.startsWith(ferry.redirectUri), registered.result.html.slice(0, 300));
    const getUsers = await query<{ count: number }>("select count(*)::int as count from script_executions where script = 'getUser' and created_at > $1", [
      new Date(retired.body.at),
    ]);
    assert.equal(getUsers[0]!.count, 0);
  });
});
