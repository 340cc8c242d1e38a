import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAccountLibrary } from '../../src/accounts/library.ts';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { subjectOf } from '../../src/accounts/subject.ts';
import { createAccountQueries } from '../../src/store/queries/accounts.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { peerHashes } from '../helpers/peer-hashes.ts';
import { beginAuthorization, relyingParty, signIn } from '../helpers/relying-party.ts';
import { runCli } from './run-cli.ts';

const PASSWORD = 'Legacy pässword 1';
const FIREBASE = {
  algorithm: 'firebase-scrypt',
  hash: 'lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==',
  salt: '42xEC+ixf3L2lw==',
  signerKey: 'jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==',
  saltSeparator: 'Bw==',
  rounds: 8,
  memCost: 14,
};

interface Imported {
  id: string;
  email: string;
  format: string;
  password: string;
}

describe('bulk import of users with legacy password hashes (no legacy database at all)', () => {
  let ferry: TestFerry;
  let api: ReturnType<typeof adminClient>;
  const users: Imported[] = [];
  let records: Record<string, unknown>[];
  let firstAnswer: { created: number; skipped: number; updated: number; failed: { index: number; id?: string; error: string }[]; failedCount: number };

  const sub = (id: string) => subjectOf(ferry.ferry.config.subjectPrefix, id);
  const storedHash = async (id: string) =>
    (await ferry.ferry.db.query<{ password_hash: string | null }>('select password_hash from accounts where legacy_id = $1', [id])).rows[0]?.password_hash;
  const profileOf = async (id: string) =>
    (await ferry.ferry.db.query<{ profile: Record<string, unknown> }>('select profile from accounts where legacy_id = $1', [id])).rows[0]!.profile;
  const postNdjson = async (path: string, text: string) => {
    const response = await fetch(`${ferry.issuer}/api/v1${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/x-ndjson' },
      body: text,
    });
    const body = await response.text();
    return { status: response.status, text: body, body: JSON.parse(body) };
  };
  const serviceSignIn = (email: string, password: string, ip: string) => ferry.ferry.federation.signIn.signIn(email, password, { ip });

  before(async () => {
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, bruteForce: { account: { freeFailures: 1000 }, ip: { freeFailures: 1000 } } });
    api = adminClient(ferry);
    // passlib's default sha512-crypt (656,000 rounds, seconds in Node) is left to the unit test; its 5,000-round sibling signs in here.
    const peers = Object.entries(peerHashes(PASSWORD)).filter(([format]) => format !== 'sha512-crypt');
    records = peers.map(([format, hash], i) => {
      const user = { id: `L-${1000 + i}`, email: `user${i}@legacy.example`, format, password: PASSWORD };
      users.push(user);
      return { id: user.id, email: user.email, emailVerified: true, name: `User ${i}`, favouriteColour: 'teal', passwordHash: hash };
    });
    users.push({ id: '77', email: 'firebase@legacy.example', format: 'Firebase scrypt', password: 'user1password' });
    records.push({ id: 77, email: 'firebase@legacy.example', passwordHash: FIREBASE });
    users.push({ id: 'drupal-1', email: 'drupal@legacy.example', format: 'Drupal 7 $S$', password: 'admin1' });
    records.push({ id: 'drupal-1', email: 'drupal@legacy.example', passwordHash: '$S$D2sypG2KL6EjTo08zxDCAx4D3lcAQx7Tk.hydYvH/hEDiNfo2AHS' });
    records.push({ id: 'no-hash', username: 'resetme', name: 'Sets a password by reset' });
    records.push({ id: 'odd-username', username: 'has a space', email: 'odd@legacy.example' });
  });

  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('creates every record it can read and names, by index, each one it cannot, without losing the rest', async () => {
    const good = records.length;
    const bad = [
      { id: 'unknown-format', email: 'unknown@legacy.example', passwordHash: 'e10adc3949ba59abbe56e057f20f883e' },
      { id: 'absurd-cost', email: 'absurd@legacy.example', passwordHash: `$2b$31$${'a'.repeat(53)}` },
      { id: 'bad-email', email: 'not an email', passwordHash: null },
      { email: 'no-id@legacy.example' },
      { id: 'plain', email: 'plain@legacy.example', password: 'secret' },
      { id: 'takes-user0-email', email: 'USER0@legacy.example' },
      42,
    ];
    const answer = await api.post('/users/import', { users: [...records, ...bad] });
    assert.equal(answer.status, 200, answer.text);
    firstAnswer = answer.body;
    assert.equal(answer.body.created, good);
    assert.equal(answer.body.skipped, 0);
    assert.equal(answer.body.failedCount, bad.length);
    const failure = (offset: number) => answer.body.failed.find((item: { index: number }) => item.index === good + offset);
    assert.match(failure(0).error, /Unknown password hash format/);
    assert.equal(failure(0).id, 'unknown-format');
    assert.match(failure(1).error, /bcrypt cost is 31/);
    assert.match(failure(2).error, /"email" is not a valid email address, and the record has no other/);
    assert.match(failure(3).error, /non-empty id/);
    assert.match(failure(4).error, /Plain passwords are not imported/);
    assert.match(failure(5).error, /The email user0@legacy.example already belongs to another account/);
    assert.match(failure(6).error, /must be a JSON object/);
    // The account without a hash exists, keeps its legacy id as its subject, and cannot sign in yet.
    const { rows } = await ferry.ferry.db.query<{ sub: string; password_hash: string | null; imported_at: Date | null; profile: Record<string, unknown> }>(
      'select sub, password_hash, imported_at, profile from accounts where legacy_id = $1',
      ['no-hash'],
    );
    assert.equal(rows[0]?.sub, sub('no-hash'));
    assert.equal(rows[0]?.password_hash, null);
    assert.ok(rows[0]?.imported_at instanceof Date);
    // A username Ferry cannot sign in with stays in the profile, as a lazy migration keeps it.
    const odd = await ferry.ferry.db.query<{ email: string; username: string | null; profile: Record<string, unknown> }>(
      'select email, username, profile from accounts where legacy_id = $1',
      ['odd-username'],
    );
    assert.deepEqual([odd.rows[0]?.email, odd.rows[0]?.username, odd.rows[0]?.profile.username], ['odd@legacy.example', null, 'has a space']);
  });

  it('signs an imported bcrypt ($2y$) user and a Django pbkdf2_sha256 user in through the hosted form, replacing the hash with argon2id', async () => {
    const config = await relyingParty(ferry);
    for (const format of ['bcrypt $2y$', 'django pbkdf2_sha256']) {
      const user = users.find((item) => item.format === format)!;
      const before = await storedHash(user.id);
      assert.ok(before && !before.startsWith('$argon2id$'), `${format} is stored as imported: ${before}`);

      const refused = await beginAuthorization(ferry, config, new Browser());
      const wrong = await new Browser().submit(refused.page, '/login', { identifier: user.email, password: 'not-the-password' });
      assert.ok(wrong.url.includes('/interaction/'), `${format}: a wrong password stays on the login page`);
      assert.equal(await storedHash(user.id), before);

      const tokens = await signIn(ferry, config, new Browser(), user.email, user.password);
      assert.equal(tokens.claims()!.sub, sub(user.id), `${format}: the subject is the legacy id`);
      assert.equal(tokens.claims()!.email, user.email);
      const after = await storedHash(user.id);
      assert.match(after ?? '', /^\$argon2id\$v=19\$m=19456,/, `${format} was upgraded`);
      const again = await signIn(ferry, config, new Browser(), user.email, user.password);
      assert.equal(again.claims()!.sub, sub(user.id), `${format}: signs in again after the upgrade`);
    }
  });

  it('signs in a user of every other imported format once with the right password, refuses a wrong one, and upgrades the hash', async () => {
    let ip = 1;
    const accounts = createAccountLibrary({
      queries: createAccountQueries(ferry.ferry.db),
      hasher: createPasswordHasher(),
      policy: ferry.ferry.config.passwordPolicy,
      subjectPrefix: '',
    });
    for (const user of users) {
      // Straight to the account library: a failed sign-in is held to the failure floor, which the slow formats raise.
      const wrong = await accounts.verifyLogin({ kind: 'email', value: user.email }, `${user.password}!`);
      assert.deepEqual(wrong, { ok: false, reason: 'wrong_password' }, `${user.format}: a wrong password is refused`);
      const right = await serviceSignIn(user.email, user.password, `10.13.1.${ip}`);
      assert.ok(right.ok, `${user.format}: ${right.ok ? '' : right.message}`);
      assert.equal(right.sub, sub(user.id));
      assert.match((await storedHash(user.id)) ?? '', /^\$argon2id\$v=19\$m=19456,/, `${user.format} is argon2id now`);
      assert.ok((await serviceSignIn(user.email, user.password, `10.13.2.${ip++}`)).ok, `${user.format}: signs in after the upgrade`);
    }
  });

  it('skips what it already has on a rerun, and updates it only when asked', async () => {
    const rerun = await api.post('/users/import', { users: records });
    assert.equal(rerun.status, 200, rerun.text);
    assert.deepEqual(
      { created: rerun.body.created, skipped: rerun.body.skipped, failed: rerun.body.failedCount },
      { created: 0, skipped: firstAnswer.created, failed: 0 },
    );
    const upgraded = await storedHash(users[0]!.id);
    assert.match(upgraded ?? '', /^\$argon2id\$/, 'a rerun does not put the legacy hash back');

    const renamed = `${JSON.stringify({ id: users[1]!.id, email: users[1]!.email, name: 'Renamed' })}\n`;
    const skipped = await postNdjson('/users/import', renamed);
    assert.deepEqual([skipped.body.created, skipped.body.skipped, skipped.body.updated], [0, 1, 0]);
    assert.equal((await profileOf(users[1]!.id)).name, 'User 1');
    const updated = await postNdjson('/users/import?existing=update', renamed);
    assert.deepEqual([updated.body.created, updated.body.skipped, updated.body.updated], [0, 0, 1]);
    assert.equal((await profileOf(users[1]!.id)).name, 'Renamed');
    assert.match((await storedHash(users[1]!.id)) ?? '', /^\$argon2id\$/, 'a record without a hash keeps the current one');
  });

  it("streams NDJSON: a line that is not JSON is that record's failure, the lines after it are imported", async () => {
    const lines = [
      JSON.stringify({ id: 'nd-1', email: 'nd1@legacy.example', passwordHash: records[0]!.passwordHash }),
      '{"id": "nd-2", "email": ',
      '',
      JSON.stringify({ id: 'nd-3', email: 'nd3@legacy.example' }),
    ];
    const answer = await postNdjson('/users/import', lines.join('\n'));
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.body.created, 2);
    assert.equal(answer.body.failed.length, 1);
    assert.equal(answer.body.failed[0].index, 1);
    assert.match(answer.body.failed[0].error, /not JSON/);
    assert.ok((await serviceSignIn('nd1@legacy.example', PASSWORD, '10.13.9.1')).ok);
  });

  it('imports a file with `ferry users import` through the running server, with a summary and exit code 1 when a record failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-import-'));
    const file = join(dir, 'users.jsonl');
    writeFileSync(
      file,
      [
        { id: 'cli-1', email: 'cli1@legacy.example', passwordHash: records[0]!.passwordHash },
        { id: 'cli-2', email: 'cli2@legacy.example', passwordHash: '$9$nope' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    const run = await runCli(['users', 'import', 'users.jsonl', '--url', ferry.issuer], { cwd: dir, env: { FERRY_ADMIN_TOKEN: ADMIN_TOKEN } });
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stdout, /Created: 1 {2}Skipped \(already in Ferry\): 0 {2}Updated: 0 {2}Failed: 1/);
    assert.match(run.stdout, /record 1 \(id cli-2\): Unknown password hash format/);
    assert.ok((await serviceSignIn('cli1@legacy.example', PASSWORD, '10.13.9.2')).ok);
    const again = await runCli(['import', 'users.jsonl', '--url', ferry.issuer, '--json'], { cwd: dir, env: { FERRY_ADMIN_TOKEN: ADMIN_TOKEN } });
    assert.equal(JSON.parse(again.stdout).skipped, 1, again.stderr);
    removeDataDir(dir);
  });
});
