import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli as ferry } from '../admin/run-cli.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, createOutageProxy, type LegacyDatabase } from '../helpers/legacy.ts';
import { postgresReachable } from '../helpers/services.ts';

const USERS = Array.from({ length: 6 }, (_, i) => ({ email: `p${i}@legacy.example`, username: `p${i}`, name: `P ${i}`, password: `pw-of-p${i}` }));
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ferry migration sweep, status and retire on the configured database', () => {
  let legacy: LegacyDatabase;
  let cwd: string;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', USERS);
    cwd = mkdtempSync(join(tmpdir(), 'ferry-retire-cli-'));
    // The template's listUsers returns no passwordHash: swept users set their password by reset.
    const connection = { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') };
    writeFileSync(join(cwd, 'ferry.config.json'), JSON.stringify({ dataDir: join(cwd, 'data'), adminToken: ADMIN_TOKEN, connection }));
  });
  after(async () => {
    await legacy?.drop();
    if (cwd) removeDataDir(cwd);
  });

  it('sweeps in the foreground, refuses to retire while someone remains, and retires with --force, logged', async () => {
    const first = await ferry(['migration', 'status'], { cwd });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Remaining: +6 only in the legacy database$/m);

    const early = await ferry(['migration', 'retire'], { cwd });
    assert.equal(early.code, 1);
    assert.match(early.stderr, /6 users are still only in the legacy database .* retire with force/);

    const swept = await ferry(['migration', 'sweep', '--page-size', '4'], { cwd });
    assert.equal(swept.code, 0, swept.stderr);
    assert.match(swept.stdout, /^Sweep done: 6 created, 0 already in Ferry, 0 failed, 6 listed\.$/m);
    assert.match(swept.stderr, /^done: page 3, 6 of 6 listed, 6 created/m);
    const bad = await ferry(['migration', 'sweep', '--page-size', 'many'], { cwd });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--page-size takes a whole number/);

    const status = await ferry(['migration', 'status'], { cwd });
    assert.match(status.stdout, /^ {2}by sign-in 0, imported 0, swept 6$/m);
    assert.match(status.stdout, /^Remaining: +0 only in the legacy database$/m);
    assert.match(status.stdout, /^Sweep: +done, page 3, 6 created/m);
    assert.match(status.stdout, /`ferry migration retire` switches the legacy database off/);

    // A user added to the legacy database after the sweep: retiring now would lock them out.
    await legacy.query("insert into users (email, username, name, password) values ('late@legacy.example', 'late', 'Late', 'x')");
    const refused = await ferry(['migration', 'retire'], { cwd });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /1 user is still only in the legacy database/);
    const forced = await ferry(['migration', 'retire', '--force'], { cwd });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /The legacy database is retired .*the connection is off/);
    assert.match(forced.stdout, /1 legacy users were left behind/);
    const logged = forced.stderr.split('\n').find((line) => line.includes('legacy database retired with confirmation'));
    assert.ok(logged, `the forced retirement is logged: ${forced.stderr}`);
    assert.deepEqual([JSON.parse(logged).remaining, JSON.parse(logged).forced, JSON.parse(logged).by], [1, true, 'cli']);

    const retired = await ferry(['migration', 'status', '--json'], { cwd });
    const json = JSON.parse(retired.stdout);
    assert.deepEqual([json.retired.forced, json.retired.remaining, json.swept], [true, 1, 6]);
    const again = await ferry(['migration', 'sweep'], { cwd });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /needs the connection enabled in LAZY_MIGRATION mode/);
  });
});

describe('the sweep from the console, through a legacy outage', () => {
  let legacy: LegacyDatabase;
  let proxy: Awaited<ReturnType<typeof createOutageProxy>>;
  let server: TestFerry;
  let console: Browser;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', USERS);
    proxy = await createOutageProxy({ host: legacy.host, port: legacy.port });
    const url = new URL(legacy.url);
    url.port = String(proxy.port);
    server = await startFerry({
      adminToken: ADMIN_TOKEN,
      connection: {
        enabled: true,
        mode: 'LAZY_MIGRATION',
        env: { DB_CONNECTION_URI: url.href },
        scriptsDir: join(TEMPLATES, 'postgres'),
        breaker: { failureThreshold: 2, openSeconds: 2 },
      },
    } as never);
    console = new Browser();
    await console.submit(await console.get(`${server.issuer}/console/login`), '/console/login', { token: ADMIN_TOKEN });
  });
  after(async () => {
    await server?.stop();
    await proxy?.close();
    await legacy?.drop();
    if (server) removeDataDir(server.dataDir);
  });

  it('waits while the legacy database is down, finishes when it is back, and retires it from the migration page', async () => {
    const api = adminClient(server);
    const page = await console.get(`${server.issuer}/console/migration`);
    assert.match(page.html, /<dd id="remaining">6<\/dd>/);
    assert.match(page.html, /Sweep the legacy database/);
    assert.match(page.html, /Retire the legacy database anyway/);

    await proxy.cut('refuse');
    const started = await console.submit(page, '/console/migration/sweep', { action: 'start' });
    assert.match(started.html, /The sweep runs in the background/);
    let status = (await api.get('/migration/sweep')).body;
    for (const until = Date.now() + 30_000; !/circuit breaker is open/.test(status.lastError ?? '') && Date.now() < until; await wait(200))
      status = (await api.get('/migration/sweep')).body;
    assert.equal(status.state, 'running', 'an outage does not end the sweep');
    assert.match(status.lastError, /the circuit breaker is open\); the sweep waits for it/);
    assert.equal(status.seen, 0);
    const executions = (await api.get('/executions?limit=200')).body.items.filter((item: { script: string }) => item.script === 'listUsers');
    assert.ok(executions.length <= 4, `the sweep does not hammer a legacy database that is down (${executions.length} listUsers runs)`);

    await proxy.restore();
    for (const until = Date.now() + 60_000; status.state === 'running' && Date.now() < until; await wait(300))
      status = (await api.get('/migration/sweep')).body;
    assert.deepEqual([status.state, status.created, status.lastError], ['done', 6, null]);

    const done = await console.get(`${server.issuer}/console/migration`);
    assert.match(done.html, /<dd id="swept">6<\/dd>/);
    assert.match(done.html, /<dd id="remaining">0<\/dd>/);
    assert.match(done.html, /<dd id="sweep-state">done<\/dd>/);
    const retired = await console.submit(done, '/console/migration/retire', {});
    assert.match(retired.html, /The legacy database is retired: the connection is off/);
    assert.match(retired.html, /id="retired">The legacy database was retired on .* \(console\)/);
    assert.equal((await api.get('/connection')).body.enabled, false);
    assert.ok(!retired.html.includes('Sweep the legacy database'), 'no sweep is offered once the legacy database is retired');
  });
});
