import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcrypt';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { postgresReachable } from '../helpers/services.ts';

const USERS = [
  { email: 'grace@example.com', username: 'grace', name: 'Grace Hopper', password: 'grace-legacy-pw' },
  { email: 'linus@example.com', username: 'linus', name: 'Linus Torvalds', password: 'linus-legacy-pw' },
  { email: 'ada@example.com', username: 'ada', name: 'Ada Lovelace', password: 'ada-legacy-pw' },
  { email: 'alan@example.org', username: 'alan', name: 'Alan Turing', password: 'alan-legacy-pw' },
];

describe('admin API users in CUSTOM_USER_STORE mode, against a real PostgreSQL legacy database', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let api: ReturnType<typeof adminClient>;
  const legacyRow = async (username: string) => (await legacy.query('select * from users where username = $1', [username]))[0];
  const ferryAccounts = async () => (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts')).rows[0]!.n;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', USERS);
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      connection: {
        enabled: true,
        mode: 'CUSTOM_USER_STORE',
        env: { DB_CONNECTION_URI: legacy.url },
        scriptsDir: join(TEMPLATES, 'postgres'),
        claimsCacheSeconds: 0,
      },
    });
    api = adminClient(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('lists and searches the legacy users a page at a time, with the total of all of them', async () => {
    const ids = (await legacy.users()).map((row) => String(row.id));
    const page = await api.get('/users?page=2&limit=3');
    assert.equal(page.status, 200);
    assert.deepEqual([page.body.total, page.body.page, page.body.limit], [4, 2, 3]);
    assert.deepEqual(
      page.body.users.map((user: { sub: string; source: string }) => [user.sub, user.source]),
      [[ids[3], 'legacy']],
    );

    const found = await api.get('/users?q=example.com&page=2&limit=2');
    assert.deepEqual([found.body.total, found.body.page], [3, 2], 'searchUser found three; the second page holds the last');
    assert.deepEqual(
      found.body.users.map((user: { username: string }) => user.username),
      ['ada'],
    );
    assert.deepEqual(
      (await api.get('/users?q=TURING')).body.users.map((user: { email: string }) => user.email),
      ['alan@example.org'],
    );

    const grace = await api.get(`/users/${ids[0]}`);
    assert.deepEqual([grace.body.email, grace.body.name, grace.body.source], ['grace@example.com', 'Grace Hopper', 'legacy']);
    assert.equal((await api.get('/users/999999')).status, 404);
    assert.equal(await ferryAccounts(), 0);
  });

  it('creates, changes, sets the password of and deletes a user in the legacy database, keeping no copy in Ferry', async () => {
    const created = await api.post('/users', { email: 'Hedy@Example.com', username: 'hedy', name: 'Hedy Lamarr', password: 'frequency hopping 1' });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual([created.body.email, created.body.source], ['hedy@example.com', 'legacy']);
    const row = await legacyRow('hedy');
    assert.ok(row, 'the createUser script wrote the row');
    assert.equal(created.body.sub, String(row.id));
    assert.ok(await bcrypt.compare('frequency hopping 1', String(row.password)));
    assert.equal((await api.post('/users', { email: 'hedy@example.com', password: 'another password 1' })).status, 409);
    const sub = encodeURIComponent(created.body.sub);

    const changed = await api.patch(`/users/${sub}`, { name: 'Hedy Kiesler', nickname: 'Hedy', company: 'MGM' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.body.name, 'Hedy Kiesler');
    const renamed = (await legacyRow('hedy'))!;
    assert.deepEqual([renamed.name, renamed.nickname, renamed.company], ['Hedy Kiesler', 'Hedy', 'MGM'], 'the updateUser script changed the row');

    const before = String(renamed.password);
    assert.equal((await api.put(`/users/${sub}/password`, { password: 'torpedo guidance 2' })).status, 204);
    const after = String((await legacyRow('hedy'))!.password);
    assert.notEqual(after, before);
    assert.ok(await bcrypt.compare('torpedo guidance 2', after), 'the updateUser script stored a hash of the new password');
    assert.equal((await api.put(`/users/${sub}/password`, { password: 'short' })).status, 400, 'the password policy applies');

    assert.equal((await api.delete(`/users/${sub}`)).status, 204);
    assert.equal(await legacyRow('hedy'), undefined, 'the deleteUser script removed the row');
    assert.equal((await api.get(`/users/${sub}`)).status, 404);
    assert.equal((await api.delete(`/users/${sub}`)).status, 404);

    assert.equal(await ferryAccounts(), 0, "nothing was written to Ferry's accounts");
    for (const secret of ['frequency hopping 1', 'torpedo guidance 2', before, after])
      assert.ok(!api.seen().includes(secret), 'no answer carries a password or its hash');
  });
});
