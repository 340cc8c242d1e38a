import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

const PREFIX = 'legacy|';
const IRIS = { email: 'iris@example.com', username: 'iris', name: 'Iris Murdoch', password: 'iris-legacy-pw' };

describe('subjectPrefix', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', [IRIS]);
    ferry = await startFerry({
      subjectPrefix: PREFIX,
      connection: { enabled: true, mode: 'CUSTOM_USER_STORE', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('gives one subject, prefix + legacy id, before the user migrates, when they do, and after', async () => {
    const config = await relyingParty(ferry);
    const [row] = await legacy.query('select id from users where email = $1', [IRIS.email]);
    const expected = `${PREFIX}${String(row!.id)}`;
    const subjectOf = async (identifier: string) => {
      const tokens = await signIn(ferry, config, new Browser(), identifier, IRIS.password);
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub);
      assert.equal(userinfo.email, IRIS.email, 'the claims are found through the subject');
      return tokens.claims()!.sub;
    };

    assert.equal(await subjectOf(IRIS.email), expected, 'custom user store: the user lives in legacy only');
    await ferry.ferry.federation.settings.save({ mode: 'LAZY_MIGRATION' });
    assert.equal(await subjectOf(IRIS.username), expected, 'the sign-in that migrates');
    const { rows } = await ferry.ferry.db.query<{ sub: string; legacy_id: string }>('select sub, legacy_id from accounts');
    assert.deepEqual(rows, [{ sub: expected, legacy_id: String(row!.id) }]);
    assert.equal(await subjectOf(IRIS.email), expected, 'a local sign-in of the migrated account');
  });
});
