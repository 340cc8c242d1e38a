import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import pg from 'pg';
import { createLogger } from '../../src/log.ts';
import { createSandbox, type Outcome } from '../../src/sandbox/index.ts';
import { createPostgresDatabase, needService, postgresReachable } from '../helpers/services.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'seeds');

/**
 * The PostgreSQL `login` example exactly as customers paste it: from the GenAuth page
 * (seeds/000) and from the Authing page it was translated from (seeds/004, indentation lost).
 * The hashes pin the bytes: an editor or formatter that touches the fixtures fails this test.
 */
const SEED_SCRIPTS = [
  { file: 'postgres-login.js', sha256: '068b11818eb7e1978b48e4767713240f4c03fa60e08b625a276df94a1aef83e3' },
  { file: 'postgres-login-authing.js', sha256: 'cbd956083ab6d7ddfe978830dbee4faa9f547a5bc25fb2351d021a9231b25da2' },
];

const CONTEXT = {
  userPoolId: 'pool-1',
  userPoolName: 'Example',
  userPoolMetadata: {},
  appId: 'app-1',
  appName: 'Shop',
  appMetadata: {},
  application: 'pool-1',
  request: { ip: '203.0.113.7', geo: {}, body: { username: 'alice' } },
};

function assertFailedWith(outcome: Outcome, message: string) {
  assert.equal(outcome.ok, false, `expected "${message}"`);
  if (outcome.ok) return;
  assert.equal(outcome.kind, 'script_error');
  assert.equal(outcome.message, message);
}

test("the seeds' PostgreSQL login example runs unchanged against a real users table", async (t) => {
  if (!(await needService(t, 'PostgreSQL', postgresReachable))) return;
  const db = await createPostgresDatabase('ferry_seed_login');
  const sandbox = createSandbox({ log: createLogger({ level: 'silent' }) });
  t.after(async () => {
    sandbox.close();
    await db.drop();
  });

  // The seeds' users table (the same one the PostgreSQL templates document), with one user.
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(readFileSync(join(import.meta.dirname, '..', '..', 'hooks', 'templates', 'postgres', 'schema.sql'), 'utf8'));
    await client.query(
      `INSERT INTO users (email, phone, username, password, nickname, photo, token, email_verified, phone_verified, logins_count, last_ip, gender, address, company, website)
       VALUES ('alice@example.com', '+8613800000001', 'alice', $1, 'ally', 'https://example.com/a.png', 'legacy-token', true, false, 7, '198.51.100.1', 'F', 'Rabbit Hole 1', 'Wonderland Ltd', 'https://alice.example.com')`,
      [await bcrypt.hash('alice-password', 10)],
    );
  } finally {
    await client.end();
  }
  const env = { DB_CONNECTION_URI: db.url };
  const expected = {
    email: 'alice@example.com',
    phone: '+8613800000001',
    username: 'alice',
    photo: 'https://example.com/a.png',
    nickname: 'ally',
    token: 'legacy-token',
    emailVerified: true,
    phoneVerified: false,
    loginsCount: 7,
    lastIp: '198.51.100.1',
    gender: 'F',
    address: 'Rabbit Hole 1',
    company: 'Wonderland Ltd',
    birthdate: null,
    website: 'https://alice.example.com',
  };

  for (const { file, sha256 } of SEED_SCRIPTS) {
    const source = readFileSync(join(FIXTURES, file), 'utf8');
    const run = (query: Record<string, string>, password: string) => sandbox.run({ name: 'login', source, args: [query, password, CONTEXT], env });

    await t.test(`${file} is the seed's text, byte for byte`, () => {
      assert.equal(
        createHash('sha256')
          .update(readFileSync(join(FIXTURES, file)))
          .digest('hex'),
        sha256,
      );
    });

    await t.test(`${file} signs in by email, username and phone and returns the seed's profile`, async () => {
      const queries: Record<string, string>[] = [{ email: 'alice@example.com' }, { username: 'alice' }, { phone: '+8613800000001' }];
      for (const query of queries) {
        const outcome = await run(query, 'alice-password');
        assert.ok(outcome.ok, outcome.ok ? '' : `${JSON.stringify(query)}: ${outcome.kind}: ${outcome.message}`);
        const { id, ...profile } = outcome.value as Record<string, unknown>;
        assert.equal(typeof id, 'number');
        assert.deepEqual(profile, expected);
      }
    });

    await t.test(`${file} fails a wrong password and an unknown user with the seed's messages`, async () => {
      assertFailedWith(await run({ email: 'alice@example.com' }, 'wrong-password'), 'Execute query failed: Password is not valid!');
      assertFailedWith(await run({ username: 'alice' }, ''), 'Execute query failed: Password is not valid!');
      assertFailedWith(await run({ email: 'nobody@example.com' }, 'alice-password'), 'Execute query failed: User not exists!');
      assertFailedWith(await run({ phone: '+10000000000' }, 'alice-password'), 'Execute query failed: User not exists!');
    });
  }
});
