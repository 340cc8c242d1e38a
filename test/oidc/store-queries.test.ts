import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { freePort, removeDataDir, startFerry, statementsOf, TEST_CLIENT, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, completeLogin, relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

/** Store queries a whole sign-in may make (issue #15: the round trips to the database are what a login costs beyond its hash). */
const BOUNDS = { firstLogin: 15, migratedLogin: 11, refresh: 3 };
const USER = { email: 'counted@example.com', username: 'counted', name: 'Counted User', password: 'counted-legacy-pw' };

/**
 * Counts the statements Ferry sends to its own database for one whole sign-in — authorization
 * request, login page, login form, resume, code exchange, as openid-client and a browser run it —
 * from its `ferry_store_queries_total` metric.
 */
describe('store queries per sign-in', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let rp: oidc.Configuration;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', [USER]);
    // A first-party client (no consent page), as the benchmark's.
    const port = await freePort();
    const client = { ...TEST_CLIENT, skip_consent: true, redirect_uris: [`http://127.0.0.1:${port}/test-callback`] };
    ferry = await startFerry(
      {
        clients: [client],
        connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
      },
      { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-test-')) },
    );
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const metric = async () => {
    const text = await (await fetch(`${ferry.issuer}/metrics`)).text();
    const value = /^ferry_store_queries_total (\d+)/m.exec(text)?.[1];
    assert.ok(value, 'the metric is served');
    return Number(value);
  };
  /**
   * The statements `work` sends, from Ferry's database object (what the metric counts). Two kinds
   * are not the sign-in's own and are counted apart: the connection settings, read again at most
   * every 2 s whatever the traffic, and the execution log's and the audit log's batches, written
   * in the background.
   */
  const countOf = async (work: () => Promise<unknown>) => {
    const sent = await statementsOf(ferry, work);
    const aside = sent.filter((sql) => /from settings where key|insert into script_executions|insert into audit_events/.test(sql));
    assert.ok(aside.length <= 3, `at most one settings read, one execution log batch and one audit batch: ${aside.join('; ')}`);
    return sent.length - aside.length;
  };
  let refreshToken: string | undefined;
  /** The store queries of one sign-in in a new browser (a new session). */
  const counted = () =>
    countOf(async () => {
      const tokens = await signIn(ferry, rp, new Browser(), USER.email, USER.password, { scope: 'openid email profile' });
      assert.equal(tokens.claims()!.email, USER.email, 'the claims reached the ID token');
      refreshToken = tokens.refresh_token;
    });

  it(`a lazy first login makes at most ${BOUNDS.firstLogin} store queries, a migrated user's login at most ${BOUNDS.migratedLogin}`, async () => {
    const before = await metric();
    const first = await counted();
    assert.ok((await metric()) - before >= first, 'ferry_store_queries_total counts them');
    const migrated = [await counted(), await counted(), await counted()];
    process.stderr.write(`store queries: first login ${first}, migrated logins ${migrated.join(', ')}\n`);
    assert.ok(first <= BOUNDS.firstLogin, `first login: ${first} store queries`);
    assert.ok(Math.max(...migrated) <= BOUNDS.migratedLogin, `migrated logins: ${migrated.join(', ')} store queries`);
  });

  it(`a refresh grant makes at most ${BOUNDS.refresh} store queries`, async () => {
    const refreshes: number[] = [];
    for (let i = 0; i < 3; i++) {
      refreshes.push(
        await countOf(async () => {
          const tokens = await oidc.refreshTokenGrant(rp, refreshToken!);
          assert.equal(tokens.claims()!.email, USER.email);
          refreshToken = tokens.refresh_token;
        }),
      );
    }
    process.stderr.write(`store queries: refresh grants ${refreshes.join(', ')}\n`);
    assert.ok(Math.max(...refreshes) <= BOUNDS.refresh, `refresh grants: ${refreshes.join(', ')} store queries`);
  });

  it('answers an error, never a code or a token that was not stored, when the write at the end of a request fails', async () => {
    const db = ferry.ferry.db as { query: (sql: string, params?: readonly unknown[]) => Promise<unknown> };
    const original = db.query;
    let failing = true;
    db.query = (sql, params) =>
      failing && sql.includes('with destroyed as') ? Promise.reject(new Error('the store went away')) : original.call(db, sql, params);
    try {
      // The resume's write (interaction, session, code) fails: no redirect with a code.
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, rp, browser, { scope: 'openid email profile' });
      const resumed = await browser.submit(page, '/login', { identifier: USER.email, password: USER.password }, ferry.redirectUri);
      assert.ok(!resumed.url.startsWith(ferry.redirectUri), `no code reached the client: ${resumed.url}`);
      assert.equal(resumed.status, 500);

      // The token endpoint's write (access and refresh tokens) fails: an error, and no token stored.
      failing = false;
      const signingIn = new Browser();
      const { page: login, checks } = await beginAuthorization(ferry, rp, signingIn, { scope: 'openid email profile' });
      const callback = await completeLogin(ferry, signingIn, login, USER.email, USER.password);
      const tokensStored = async () =>
        (await ferry.ferry.db.query<{ n: number }>(`select count(*)::int as n from oidc_models where model in ('AccessToken', 'RefreshToken')`)).rows[0]!.n;
      const before = await tokensStored();
      failing = true;
      await assert.rejects(oidc.authorizationCodeGrant(rp, new URL(callback.url), checks));
      failing = false;
      assert.equal(await tokensStored(), before);
    } finally {
      db.query = original;
    }
  });
});
