import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, relyingParty } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

const GENERIC = 'The sign-in details you entered are not correct. Check them and try again.';

async function attempt(ferry: TestFerry, config: oidc.Configuration, identifier: string, password: string) {
  const browser = new Browser();
  const { page } = await beginAuthorization(ferry, config, browser);
  return browser.submit(page, '/login', { identifier, password });
}

describe('a lazy-migration connection enabled before its login script is written', () => {
  let ferry: TestFerry;
  before(async () => {
    ferry = await startFerry({ connection: { enabled: true, mode: 'LAZY_MIGRATION' } });
  });
  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it("answers a sign-in with the seed's default error, as GenAuth does", async () => {
    const answer = await attempt(ferry, await relyingParty(ferry), 'someone@example.com', 'some password');
    assert.equal(answer.status, 503);
    assert.equal(alertText(answer), 'Please implement the Login script for this database connection');
  });
});

describe("the login script's own error messages", () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', [{ email: 'hana@example.com', username: 'hana', name: 'Hana', password: 'hana-legacy-pw' }]);
    ferry = await startFerry({
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const loginMessages = async () => {
    await ferry.ferry.federation.executions.flush();
    const { rows } = await ferry.ferry.db.query<{ outcome: string; message: string | null }>(
      "select outcome, message from script_executions where script = 'login' order by id",
    );
    return rows;
  };

  it('go to the execution log, not to the page', async () => {
    const wrong = await attempt(ferry, config, 'hana@example.com', 'not the password');
    const unknown = await attempt(ferry, config, 'nobody@example.com', 'not the password');
    for (const answer of [wrong, unknown]) {
      assert.equal(answer.status, 401);
      assert.equal(alertText(answer), GENERIC);
      assert.doesNotMatch(answer.html, /Password is not valid|User not exists/);
    }
    assert.deepEqual(await loginMessages(), [
      { outcome: 'script_error', message: 'Password is not valid!' },
      { outcome: 'script_error', message: 'User not exists!' },
    ]);
  });

  it('are shown verbatim with showScriptErrors, for GenAuth compatibility', async () => {
    await ferry.ferry.federation.settings.save({ showScriptErrors: true });
    try {
      const wrong = await attempt(ferry, config, 'hana@example.com', 'not the password');
      const unknown = await attempt(ferry, config, 'nobody@example.com', 'not the password');
      assert.equal(wrong.status, 401);
      assert.equal(alertText(wrong), 'Password is not valid!');
      assert.equal(unknown.status, 401);
      assert.equal(alertText(unknown), 'User not exists!');
    } finally {
      await ferry.ferry.federation.settings.save({ showScriptErrors: false });
    }
  });
});
