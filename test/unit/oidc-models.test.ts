import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../../src/store/index.ts';
import { createOidcModelQueries } from '../../src/store/queries/oidc-models.ts';

describe('expiry clean-up of oidc-provider models', () => {
  it('deletes the expired rows and keeps the live ones and those without an expiry', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-expiry-'));
    const db = await openDatabase({ dataDir });
    try {
      const models = createOidcModelQueries(db);
      await models.upsert('Session', 'expired-session', { uid: 'u1' }, -60);
      await models.upsert('AccessToken', 'expired-token', { grantId: 'g1' }, -1);
      await models.upsert('Session', 'live-session', { uid: 'u2' }, 3600);
      await models.upsert('AccessToken', 'live-token', { grantId: 'g1' }, 60);
      await models.upsert('Grant', 'grant-without-expiry', {}, undefined);

      assert.equal(await models.find('Session', 'expired-session'), undefined, 'an expired row is never found, even before the clean-up');
      assert.equal(await models.deleteExpired(), 2);
      const { rows } = await db.query<{ id: string }>('select id from oidc_models order by id');
      assert.deepEqual(
        rows.map((row) => row.id),
        ['grant-without-expiry', 'live-session', 'live-token'],
      );
      assert.deepEqual(await models.find('Session', 'live-session'), { uid: 'u2' });
      assert.equal(await models.deleteExpired(), 0, 'nothing left to delete');
    } finally {
      await db.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
