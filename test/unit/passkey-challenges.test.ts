import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/store/index.ts';
import { createPasskeyQueries, LIVE_CHALLENGES } from '../../src/store/queries/passkeys.ts';

describe('the challenges of passkey ceremonies', () => {
  it('are taken once, only for what and whom they were made, not once expired, and kept a few per interaction or page', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-challenges-'));
    const db = await openDatabase({ dataDir });
    try {
      const queries = createPasskeyQueries(db);
      await queries.addChallenge('register-me', 'register', 'account:s1:sub-1', 300, 'handle-1');
      await queries.addChallenge('sign-me-in', 'sign-in', 'sign-in:uid-1', 300);
      await queries.addChallenge('too-late', 'sign-in', 'sign-in:uid-1', -1);

      assert.equal(await queries.takeChallenge('register-me', 'sign-in', 'account:s1:sub-1'), undefined, 'not for another purpose');
      assert.equal(await queries.takeChallenge('register-me', 'register', 'account:s2:sub-1'), undefined, 'not for another session');
      assert.deepEqual(await queries.takeChallenge('register-me', 'register', 'account:s1:sub-1'), { userHandle: 'handle-1' });
      assert.equal(await queries.takeChallenge('register-me', 'register', 'account:s1:sub-1'), undefined, 'once');

      assert.equal(await queries.takeChallenge('too-late', 'sign-in', 'sign-in:uid-1'), undefined, 'not once expired');
      assert.deepEqual(await queries.takeChallenge('sign-me-in', 'sign-in', 'sign-in:uid-1'), { userHandle: null });

      await queries.addChallenge('expired-one', 'sign-in', 'sign-in:uid-2', -1);
      await queries.addChallenge('fresh-one', 'sign-in', 'sign-in:uid-2', 300);
      const { rows } = await db.query<{ challenge: string }>('select challenge from webauthn_challenges order by challenge');
      assert.deepEqual(
        rows.map((row) => row.challenge),
        ['fresh-one'],
        'a new challenge clears the expired ones',
      );

      // Options asked for again and again from one interaction keep only the newest few.
      for (let i = 0; i < 10; i++) await queries.addChallenge(`again-${i}`, 'sign-in', 'sign-in:uid-3', 300);
      await queries.addChallenge('other-purpose', 'second-factor', 'sign-in:uid-3', 300);
      const kept = await db.query<{ challenge: string }>(`select challenge from webauthn_challenges where binding = 'sign-in:uid-3' order by challenge`);
      assert.deepEqual(
        kept.rows.map((row) => row.challenge),
        ['again-7', 'again-8', 'again-9', 'other-purpose'],
        `the newest ${LIVE_CHALLENGES} of a purpose and binding, and the other purpose's`,
      );
      assert.equal(await queries.takeChallenge('again-6', 'sign-in', 'sign-in:uid-3'), undefined, 'an older one is gone');
      assert.deepEqual(await queries.takeChallenge('again-7', 'sign-in', 'sign-in:uid-3'), { userHandle: null }, 'the newest still work');
      assert.deepEqual(await queries.takeChallenge('fresh-one', 'sign-in', 'sign-in:uid-2'), { userHandle: null }, 'another binding keeps its own');
    } finally {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
