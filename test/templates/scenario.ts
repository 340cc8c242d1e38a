import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import bcrypt from 'bcrypt';
import type { Outcome } from '../../src/sandbox/index.ts';
import { assertProfileShape, assertScriptError, type ScriptName, valueOf } from './run.ts';

type Profile = Record<string, unknown>;

export interface SeedUser {
  email: string;
  phone: string;
  username: string;
  password: string;
  name: string;
  nickname: string;
  emailVerified: boolean;
  birthdate: string | null;
  company: string;
  loginsCount: number;
}

/** The legacy users every template test starts with, stored as an old application might have: mixed case included. */
export const SEED_USERS: readonly SeedUser[] = [
  {
    email: 'Alice@Example.com',
    phone: '+8613800000001',
    username: 'Alice',
    password: 'alice-password',
    name: 'Alice Liddell',
    nickname: 'ally',
    emailVerified: true,
    birthdate: '1990-04-01',
    company: 'Wonderland Ltd',
    loginsCount: 3,
  },
  {
    email: 'bob@example.com',
    phone: '+8613800000002',
    username: 'bob',
    password: 'bob-password',
    name: 'Bob Builder',
    nickname: 'bobby',
    emailVerified: false,
    birthdate: null,
    company: 'Wonderland Ltd',
    loginsCount: 3,
  },
  {
    email: 'carol@example.com',
    phone: '13800000003',
    username: 'carol',
    password: 'carol-password',
    name: 'Carol 100%_off',
    nickname: 'caz',
    emailVerified: false,
    birthdate: null,
    company: 'Wonderland Ltd',
    loginsCount: 3,
  },
];

export interface Backend {
  run(name: ScriptName, args: unknown[], env: Record<string, string>): Promise<Outcome>;
  /** The two ways of configuring the connection: the scenario alternates between them. */
  uriEnv: Record<string, string>;
  fieldsEnv: Record<string, string>;
  /** The stored password hash of a user, read directly from the backend. */
  storedHash(id: unknown): Promise<string>;
  /** An id that is well-formed for the backend but belongs to nobody. */
  missingId: string;
  /** Whether updatedAt arrives as a Date (databases) or a string (JSON over HTTP). */
  updatedAtIsDate: boolean;
  /**
   * Inserts a user with `email` in a transaction left open (databases only). `whenBlocked`
   * resolves once another session waits on that row's unique-index entry.
   */
  conflictingInsert?(email: string): Promise<{ whenBlocked(): Promise<void>; commit(): Promise<void> }>;
}

const timeOf = (value: unknown) => (value instanceof Date ? value.getTime() : Date.parse(String(value)));

/**
 * The behaviour every template folder must show, script by script, against SEED_USERS. Runs as
 * ordered subtests of `t`: later steps see what earlier ones created, updated and deleted.
 */
export async function checkTemplateBehaviour(t: TestContext, backend: Backend): Promise<void> {
  const { run, uriEnv, fieldsEnv } = backend;
  let alice: Profile = {};
  let dave: Profile = {};

  await t.test('login by email compares case-insensitively and returns the profile without the hash', async () => {
    alice = valueOf(await run('login', [{ email: 'alice@example.com' }, 'alice-password', {}], uriEnv));
    assertProfileShape(alice);
    assert.ok(alice.id !== undefined && alice.id !== null && String(alice.id) !== '');
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
    if (backend.updatedAtIsDate) assert.ok(alice.updatedAt instanceof Date);
    assert.ok(Number.isFinite(timeOf(alice.updatedAt)));
  });

  await t.test('login by username and by phone, with the other form of connection variables', async () => {
    assert.equal(valueOf(await run('login', [{ username: 'alice' }, 'alice-password', {}], fieldsEnv)).id, alice.id);
    assert.equal(valueOf(await run('login', [{ phone: '+8613800000002' }, 'bob-password', {}], fieldsEnv)).username, 'bob');
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
    for (const query of [{ id: backend.missingId }, { id: 'not-an-id' }, { email: 'nobody@example.com' }, { username: 'nobody' }, { phone: '+1' }]) {
      assert.equal(valueOf<null>(await run('getUser', [query, {}], uriEnv)), null, `getUser(${JSON.stringify(query)})`);
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
    assertProfileShape(valueOf<Profile[]>(await run('searchUser', ['alice', {}], fieldsEnv))[0]!);
  });

  await t.test('createUser stores a bcrypt cost-10 hash and refuses a taken email, username or phone', async () => {
    const userinfo = {
      email: 'dave@example.com',
      username: 'dave',
      phone: '+8613800000004',
      password: 'dave-password',
      nickname: 'D',
      photo: 'https://example.com/d.png',
    };
    dave = valueOf(await run('createUser', [userinfo, {}], uriEnv));
    assertProfileShape(dave);
    assert.equal(dave.email, 'dave@example.com');
    assert.equal(dave.username, 'dave');
    assert.equal(dave.phone, '+8613800000004');
    assert.equal(dave.nickname, 'D');
    assert.equal(dave.photo, 'https://example.com/d.png');
    assert.equal(dave.emailVerified, false);
    const hash = await backend.storedHash(dave.id);
    assert.match(hash, /^\$2[ab]\$10\$/);
    assert.ok(await bcrypt.compare('dave-password', hash));

    assert.equal(valueOf(await run('login', [{ email: 'dave@example.com' }, 'dave-password', {}], fieldsEnv)).id, dave.id);
    assertScriptError(await run('createUser', [{ email: 'DAVE@example.com', password: 'x' }, {}], fieldsEnv), 'User already exists!');
    assertScriptError(await run('createUser', [{ email: 'other@example.com', username: 'Bob', password: 'x' }, {}], uriEnv), 'User already exists!');
    assertScriptError(await run('createUser', [{ phone: '+8613800000001', password: 'x' }, {}], uriEnv), 'User already exists!');
  });

  await t.test('updateUser changes only the given fields, and hashes a new password', async () => {
    const updated = valueOf(await run('updateUser', [String(dave.id), { nickname: 'Davey', emailVerified: true, password: 'new-password' }, {}], uriEnv));
    assertProfileShape(updated);
    assert.equal(updated.id, dave.id);
    assert.equal(updated.nickname, 'Davey');
    assert.equal(updated.emailVerified, true);
    assert.equal(updated.email, dave.email);
    assert.equal(updated.username, dave.username);
    assert.equal(updated.phone, dave.phone);
    assert.equal(updated.photo, dave.photo);
    assert.ok(timeOf(updated.updatedAt) >= timeOf(dave.updatedAt));
    assert.match(await backend.storedHash(dave.id), /^\$2[ab]\$10\$/);

    assert.equal(valueOf<boolean>(await run('validatePassword', [String(dave.id), 'new-password', {}], fieldsEnv)), true);
    assert.equal(valueOf<boolean>(await run('validatePassword', [String(dave.id), 'dave-password', {}], uriEnv)), false);
    assertScriptError(await run('login', [{ username: 'dave' }, 'dave-password', {}], uriEnv), 'Password is not valid!');
    assert.equal(valueOf(await run('login', [{ username: 'dave' }, 'new-password', {}], uriEnv)).nickname, 'Davey');

    assertScriptError(await run('updateUser', [backend.missingId, { nickname: 'ghost' }, {}], fieldsEnv), 'User not exists!');
    assertScriptError(await run('updateUser', [String(dave.id), { email: 'bob@example.com' }, {}], uriEnv), 'User already exists!');
  });

  await t.test('listUsers pages through every user with the total count', async () => {
    type Page = { totalCount: number; list: Profile[] };
    const first = valueOf<Page>(await run('listUsers', [1, 3, {}], uriEnv));
    const second = valueOf<Page>(await run('listUsers', [2, 3, {}], fieldsEnv));
    const third = valueOf<Page>(await run('listUsers', [3, 3, {}], uriEnv));
    assert.equal(first.totalCount, 4);
    assert.equal(second.totalCount, 4);
    assert.equal(third.totalCount, 4);
    assert.deepEqual(
      first.list.map((user) => user.username),
      ['Alice', 'bob', 'carol'],
    );
    assert.deepEqual(
      second.list.map((user) => user.username),
      ['dave'],
    );
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

  await t.test('concurrent createUser calls for one new email: exactly one wins, the rest are refused', async () => {
    const outcomes = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        run('createUser', [{ email: 'race@example.com', username: `racer${n}`, password: 'race-password' }, {}], n % 2 ? uriEnv : fieldsEnv),
      ),
    );
    const winners = outcomes.filter((outcome) => outcome.ok);
    assert.equal(winners.length, 1, `winners: ${JSON.stringify(outcomes.map((outcome) => (outcome.ok ? 'ok' : outcome.message)))}`);
    for (const outcome of outcomes) if (!outcome.ok) assertScriptError(outcome, 'User already exists!');
    const winner = valueOf(winners[0]!);
    assert.equal(valueOf<boolean>(await run('deleteUser', [String(winner.id), {}], uriEnv)), true);
  });

  if (backend.conflictingInsert) {
    const conflictingInsert = backend.conflictingInsert;
    await t.test('createUser losing a race to a concurrent insert answers "User already exists!" (the unique index decides)', async () => {
      // The other insert is not committed, so createUser's own check finds nobody and its INSERT
      // waits on the unique index; when the other commits, the database refuses the duplicate.
      const other = await conflictingInsert('late@example.com');
      let pending: Promise<Outcome> | undefined;
      try {
        pending = run('createUser', [{ email: 'late@example.com', username: 'late', password: 'late-password' }, {}], uriEnv);
        await other.whenBlocked();
      } finally {
        await other.commit();
      }
      assertScriptError(await pending, 'User already exists!');
      const holder = valueOf(await run('getUser', [{ email: 'late@example.com' }, {}], uriEnv));
      assert.notEqual(holder.username, 'late');
      assert.equal(valueOf<boolean>(await run('deleteUser', [String(holder.id), {}], uriEnv)), true);
    });
  }
}
