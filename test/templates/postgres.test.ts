import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';
import { assertProfileShape, assertScriptError, TEMPLATES_DIR, templateRunner, valueOf } from './run.ts';

type Profile = Record<string, unknown>;

/** Three legacy users, stored the way an old application might have: mixed-case emails included. */
async function seedUsers(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(readFileSync(join(TEMPLATES_DIR, 'postgres', 'schema.sql'), 'utf8'));
    const users = [
      ['Alice@Example.com', '+8613800000001', 'Alice', 'alice-password', 'Alice Liddell', 'ally', true, '1990-04-01'],
      ['bob@example.com', '+8613800000002', 'bob', 'bob-password', 'Bob Builder', 'bobby', false, null],
      ['carol@example.com', '13800000003', 'carol', 'carol-password', 'Carol 100%_off', 'caz', false, null],
    ];
    for (const [email, phone, username, password, name, nickname, verified, birthdate] of users) {
      await client.query(
        `INSERT INTO users (email, phone, username, password, name, nickname, email_verified, birthdate, company, logins_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'Wonderland Ltd', 3)`,
        [email, phone, username, await bcrypt.hash(password as string, 10), name, nickname, verified, birthdate],
      );
    }
  } finally {
    await client.end();
  }
}

test('the PostgreSQL templates run in the sandbox against a real users table', async (t) => {
  if (!(await needService(t, 'PostgreSQL', postgresReachable))) return;
  const db = await createPostgresDatabase('ferry_tpl_pg');
  const scripts = templateRunner('postgres');
  t.after(async () => {
    scripts.close();
    await db.drop();
  });
  await seedUsers(db.url);

  const url = new URL(db.url);
  const uriEnv = { DB_CONNECTION_URI: db.url };
  const fieldsEnv = {
    DB_HOST: url.hostname,
    DB_PORT: url.port || '5432',
    DB_USERNAME: decodeURIComponent(url.username),
    DB_PASSWORD: decodeURIComponent(url.password),
    DB_DATABASE: db.name,
  };
  const run = scripts.run;

  let alice: Profile;

  await t.test('login by email compares case-insensitively and returns the profile without the hash', async () => {
    alice = valueOf(await run('login', [{ email: 'alice@example.com' }, 'alice-password', {}], uriEnv));
    assertProfileShape(alice);
    assert.equal(typeof alice.id, 'number');
    assert.equal(alice.email, 'Alice@Example.com');
    assert.equal(alice.username, 'Alice');
    assert.equal(alice.phone, '+8613800000001');
    assert.equal(alice.name, 'Alice Liddell');
    assert.equal(alice.nickname, 'ally');
    assert.equal(alice.emailVerified, true);
    assert.equal(alice.phoneVerified, false);
    assert.equal(alice.loginsCount, 3);
    assert.equal(alice.company, 'Wonderland Ltd');
    assert.equal(alice.birthdate, '1990-04-01');
    assert.ok(alice.updatedAt instanceof Date);
  });

  await t.test('login by username and by phone, with the programmatic variables', async () => {
    assert.equal(valueOf(await run('login', [{ username: 'alice' }, 'alice-password', {}], fieldsEnv)).id, alice.id);
    const bob = valueOf(await run('login', [{ phone: '+8613800000002' }, 'bob-password', {}], fieldsEnv));
    assert.equal(bob.username, 'bob');
  });

  await t.test('login refuses an unknown user and a wrong password with the seed messages', async () => {
    assertScriptError(await run('login', [{ email: 'nobody@example.com' }, 'alice-password', {}], uriEnv), 'User not exists!');
    assertScriptError(await run('login', [{ phone: '+10000000000' }, 'x', {}], fieldsEnv), 'User not exists!');
    assertScriptError(await run('login', [{ email: 'alice@example.com' }, 'wrong-password', {}], uriEnv), 'Password is not valid!');
    assertScriptError(await run('login', [{ username: 'bob' }, '', {}], fieldsEnv), 'Password is not valid!');
  });

  await t.test('getUser finds by id, email, username and phone, and answers null otherwise', async () => {
    assert.deepEqual(valueOf(await run('getUser', [{ id: String(alice.id) }, {}], uriEnv)), alice);
    assert.equal(valueOf(await run('getUser', [{ email: 'alice@example.com' }, {}], fieldsEnv)).id, alice.id);
    assert.equal(valueOf(await run('getUser', [{ username: 'carol' }, {}], uriEnv)).email, 'carol@example.com');
    assert.equal(valueOf(await run('getUser', [{ phone: '13800000003' }, {}], fieldsEnv)).username, 'carol');
    for (const query of [{ id: '999999' }, { id: 'not-a-number' }, { email: 'nobody@example.com' }, { username: 'nobody' }, { phone: '+1' }, {}]) {
      const outcome = await run('getUser', [query, {}], uriEnv);
      assert.equal(valueOf<null>(outcome), null, `getUser(${JSON.stringify(query)})`);
    }
  });

  await t.test('searchUser matches fragments of email, username, phone, name and nickname', async () => {
    const names = async (keyword: string) => valueOf<Profile[]>(await run('searchUser', [keyword, {}], uriEnv)).map((user) => user.username);
    assert.deepEqual(await names('ALI'), ['Alice']);
    assert.deepEqual(await names('example.com'), ['Alice', 'bob', 'carol']);
    assert.deepEqual(await names('0000002'), ['bob']);
    assert.deepEqual(await names('builder'), ['bob']);
    assert.deepEqual(await names('caz'), ['carol']);
    assert.deepEqual(await names('100%_'), ['carol'], '% and _ are matched literally');
    assert.deepEqual(await names('%'), ['carol']);
    assert.deepEqual(await names('zzz'), []);
    const found = valueOf<Profile[]>(await run('searchUser', ['alice', {}], uriEnv));
    assertProfileShape(found[0]!);
  });

  let dave: Profile;

  await t.test('createUser stores a bcrypt cost-10 hash and refuses a taken email, username or phone', async () => {
    dave = valueOf(await run('createUser', [{ email: 'dave@example.com', username: 'dave', phone: '+8613800000004', password: 'dave-password', nickname: 'D', photo: 'https://example.com/d.png' }, {}], uriEnv));
    assertProfileShape(dave);
    assert.equal(dave.email, 'dave@example.com');
    assert.equal(dave.nickname, 'D');
    assert.equal(dave.photo, 'https://example.com/d.png');
    assert.equal(dave.emailVerified, false);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query('SELECT password FROM users WHERE id = $1', [dave.id]);
    await client.end();
    assert.match(rows[0].password, /^\$2[ab]\$10\$/);
    assert.ok(await bcrypt.compare('dave-password', rows[0].password));

    assert.equal(valueOf(await run('login', [{ email: 'dave@example.com' }, 'dave-password', {}], fieldsEnv)).id, dave.id);
    assertScriptError(await run('createUser', [{ email: 'DAVE@example.com', password: 'x' }, {}], fieldsEnv), 'User already exists!');
    assertScriptError(await run('createUser', [{ email: 'other@example.com', username: 'Bob', password: 'x' }, {}], uriEnv), 'User already exists!');
    assertScriptError(await run('createUser', [{ phone: '+8613800000001', password: 'x' }, {}], uriEnv), 'User already exists!');
  });

  await t.test('updateUser changes only the given fields, and hashes a new password', async () => {
    const updated = valueOf(await run('updateUser', [String(dave.id), { nickname: 'Davey', emailVerified: true, password: 'new-password' }, {}], uriEnv));
    assert.equal(updated.nickname, 'Davey');
    assert.equal(updated.emailVerified, true);
    assert.equal(updated.email, dave.email);
    assert.equal(updated.username, dave.username);
    assert.equal(updated.photo, dave.photo);
    assert.ok((updated.updatedAt as Date).getTime() >= (dave.updatedAt as Date).getTime());

    assert.equal(valueOf<boolean>(await run('validatePassword', [String(dave.id), 'new-password', {}], fieldsEnv)), true);
    assert.equal(valueOf<boolean>(await run('validatePassword', [String(dave.id), 'dave-password', {}], uriEnv)), false);
    assertScriptError(await run('login', [{ username: 'dave' }, 'dave-password', {}], uriEnv), 'Password is not valid!');
    assert.equal(valueOf(await run('login', [{ username: 'dave' }, 'new-password', {}], uriEnv)).nickname, 'Davey');

    assertScriptError(await run('updateUser', ['999999', { nickname: 'ghost' }, {}], uriEnv), 'User not exists!');
    assertScriptError(await run('updateUser', [String(dave.id), { email: 'bob@example.com' }, {}], uriEnv), 'User already exists!');
  });

  await t.test('listUsers pages through every user with the total count', async () => {
    const first = valueOf<{ totalCount: number; list: Profile[] }>(await run('listUsers', [1, 3, {}], uriEnv));
    const second = valueOf<{ totalCount: number; list: Profile[] }>(await run('listUsers', [2, 3, {}], fieldsEnv));
    const third = valueOf<{ totalCount: number; list: Profile[] }>(await run('listUsers', [3, 3, {}], uriEnv));
    assert.equal(first.totalCount, 4);
    assert.equal(second.totalCount, 4);
    assert.deepEqual(first.list.map((user) => user.username), ['Alice', 'bob', 'carol']);
    assert.deepEqual(second.list.map((user) => user.username), ['dave']);
    assert.deepEqual(third.list, []);
    assertProfileShape(first.list[0]!);
  });

  await t.test('deleteUser removes the user; a second delete and later lookups find nobody', async () => {
    assert.equal(valueOf<boolean>(await run('deleteUser', [String(dave.id), {}], uriEnv)), true);
    assert.equal(valueOf<null>(await run('getUser', [{ id: String(dave.id) }, {}], fieldsEnv)), null);
    assertScriptError(await run('deleteUser', [String(dave.id), {}], fieldsEnv), 'User not exists!');
    assertScriptError(await run('validatePassword', [String(dave.id), 'new-password', {}], uriEnv), 'User not exists!');
    assertScriptError(await run('login', [{ email: 'dave@example.com' }, 'new-password', {}], uriEnv), 'User not exists!');
    assert.equal(valueOf<{ totalCount: number }>(await run('listUsers', [1, 10, {}], uriEnv)).totalCount, 3);
  });
});
