import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { MYSQL_ADMIN, postgresReachable } from '../helpers/services.ts';

const USERS = [
  { email: 'grace@example.com', username: 'grace', name: 'Grace Hopper', password: 'grace-legacy-pw' },
  { email: 'linus@example.com', username: 'linus', name: 'Linus Torvalds', password: 'linus-legacy-pw' },
  { email: 'ada@example.com', username: 'ada', name: 'Ada Lovelace', password: 'ada-legacy-pw' },
];

function customStore(kind: 'postgres' | 'mysql') {
  describe(`custom user store on ${kind}`, () => {
    let legacy: LegacyDatabase;
    let ferry: TestFerry;
    let config: oidc.Configuration;
    const param = (n: number) => (kind === 'postgres' ? `$${n}` : '?');
    const legacyRow = async (email: string) => (await legacy.query(`select * from users where email = ${param(1)}`, [email]))[0];
    const executions = async (script: string) => {
      await ferry.ferry.federation.executions.flush();
      const { rows } = await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from script_executions where script = $1', [script]);
      return rows[0]!.n;
    };
    const ferryAccounts = async () => (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts')).rows[0]!.n;

    before(async () => {
      if (kind === 'postgres') await postgresReachable();
      else await (await mysql.createConnection(MYSQL_ADMIN)).end();
      legacy = await createLegacyDatabase(kind, USERS);
      ferry = await startFerry({
        connection: {
          enabled: true,
          mode: 'CUSTOM_USER_STORE',
          env: {
            DB_HOST: legacy.host,
            DB_PORT: String(legacy.port),
            DB_USERNAME: kind === 'postgres' ? 'postgres' : 'root',
            DB_PASSWORD: '',
            DB_DATABASE: legacy.database,
            DB_CONNECTION_URI: legacy.url,
          },
          scriptsDir: join(TEMPLATES, kind),
          claimsCacheSeconds: 0,
        },
      });
      config = await relyingParty(ferry);
    });

    after(async () => {
      await ferry?.stop();
      await legacy?.drop();
      if (ferry) removeDataDir(ferry.dataDir);
    });

    it('signs in with the login script every time and takes claims from getUser', async () => {
      const grace = await legacyRow('grace@example.com');
      const first = await signIn(ferry, config, new Browser(), 'grace@example.com', 'grace-legacy-pw');
      assert.equal(first.claims()!.sub, String(grace!.id));
      assert.equal(first.claims()!.name, 'Grace Hopper');
      await signIn(ferry, config, new Browser(), 'grace', 'grace-legacy-pw');
      assert.equal(await executions('login'), 2, 'the login script runs on every sign-in');

      await legacy.query(`update users set name = ${param(1)} where email = ${param(2)}`, ['Rear Admiral Grace Hopper', 'grace@example.com']);
      const before = await executions('getUser');
      const userinfo = await oidc.fetchUserInfo(config, first.access_token, String(grace!.id));
      assert.equal(userinfo.name, 'Rear Admiral Grace Hopper', 'userinfo reads the legacy database');
      assert.ok((await executions('getUser')) > before);
      assert.equal(await ferryAccounts(), 0, 'Ferry keeps no copy of the user');
    });

    it('refuses a wrong password with the common message', async () => {
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      const answer = await browser.submit(page, '/login', { identifier: 'linus@example.com', password: 'wrong' });
      assert.equal(answer.status, 401);
      assert.match(alertText(answer) ?? '', /not correct/);
    });

    it('registers through createUser into the legacy database, then signs in', async () => {
      const { result, checks } = await registerThroughForm(ferry, config, new Browser(), {
        email: 'new.user@example.com',
        username: 'newuser',
        name: 'New User',
        password: 'a good long password',
      });
      assert.ok(result.url.startsWith(ferry.redirectUri), `registered: ${alertText(result) ?? result.url}`);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(result.url), checks);
      const row = await legacyRow('new.user@example.com');
      assert.ok(row, 'the user is in the legacy database');
      assert.equal(tokens.claims()!.sub, String(row!.id));
      assert.match(String(row!.password), /^\$2[aby]\$10\$/, 'the template stored a bcrypt hash');
      assert.equal(await ferryAccounts(), 0);

      const again = await registerThroughForm(ferry, config, new Browser(), { email: 'new.user@example.com', password: 'a good long password' });
      assert.equal(again.result.status, 409);
    });

    it('changes a password with validatePassword then updateUser', async () => {
      const linus = await legacyRow('linus@example.com');
      const sub = String(linus!.id);
      await assert.rejects(ferry.ferry.federation.signIn.changePassword(sub, 'not-the-password', 'linus-new-password'), /current password is not correct/);
      await ferry.ferry.federation.signIn.changePassword(sub, 'linus-legacy-pw', 'linus-new-password');
      const tokens = await signIn(ferry, config, new Browser(), 'linus@example.com', 'linus-new-password');
      assert.equal(tokens.claims()!.sub, sub);
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, config, browser);
      assert.equal((await browser.submit(page, '/login', { identifier: 'linus@example.com', password: 'linus-legacy-pw' })).status, 401);
    });

    it('lets a signed-in user change the password on the hosted page, through validatePassword then updateUser', async () => {
      const browser = new Browser();
      await signIn(ferry, config, browser, 'ada@example.com', 'ada-legacy-pw');
      // The account page: her profile is the legacy database's, so it offers no form for it.
      const overview = await browser.get(`${ferry.issuer}/account`);
      assert.equal(overview.status, 200);
      assert.match(overview.html, /kept by your organisation’s user directory/);
      assert.doesNotMatch(overview.html, /action="\/account\/(profile|email\/change)"/);
      assert.match(overview.html, /<tr data-client="test-app">/);
      const form = await browser.get(new URL(/href="(\/account\/password)"/.exec(overview.html)![1]!, ferry.issuer).href);
      const wrong = await browser.submit(form, '/account/password', {
        current_password: 'not it',
        password: 'analytical engine 1843',
        password_confirm: 'analytical engine 1843',
      });
      assert.equal(wrong.status, 400);
      assert.match(alertText(wrong) ?? '', /current password is not correct/);
      const [validations, updates] = [await executions('validatePassword'), await executions('updateUser')];
      const done = await browser.submit(form, '/account/password', {
        current_password: 'ada-legacy-pw',
        password: 'analytical engine 1843',
        password_confirm: 'analytical engine 1843',
      });
      assert.equal(done.status, 200);
      assert.match(done.html, /Your password was changed/);
      assert.equal(await executions('validatePassword'), validations + 1);
      assert.equal(await executions('updateUser'), updates + 1);
      assert.match(String((await legacyRow('ada@example.com'))!.password), /^\$2[aby]\$10\$/);
      const tokens = await signIn(ferry, config, new Browser(), 'ada@example.com', 'analytical engine 1843');
      assert.equal(tokens.claims()!.email, 'ada@example.com');
      const anonymous = await new Browser().get(`${ferry.issuer}/account/password`);
      assert.equal(anonymous.status, 401);
    });

    it('runs every user operation against the legacy database', async () => {
      const directory = ferry.ferry.federation.directory;
      const created = await directory.create({ email: 'ops@example.com', username: 'ops', name: 'Ops Person', password: 'operations password' });
      assert.equal(created.source, 'legacy');
      assert.ok(await legacyRow('ops@example.com'));

      const page1 = await directory.list(1, 2);
      const page2 = await directory.list(2, 2);
      assert.equal(page1.users.length, 2);
      assert.ok(page1.total >= 5);
      assert.notDeepEqual(
        page1.users.map((u) => u.sub),
        page2.users.map((u) => u.sub),
      );

      const found = (await directory.search('OPS@')).users;
      assert.deepEqual(
        found.map((u) => u.email),
        ['ops@example.com'],
      );
      assert.equal((await directory.get(created.sub)).email, 'ops@example.com');

      const updated = await directory.update(created.sub, { name: 'Renamed Person' });
      assert.equal(updated.name, 'Renamed Person');
      assert.equal((await legacyRow('ops@example.com'))!.name, 'Renamed Person');

      await directory.setPassword(created.sub, 'another operations password');
      const tokens = await signIn(ferry, config, new Browser(), 'ops@example.com', 'another operations password');
      assert.equal(tokens.claims()!.sub, created.sub);

      await directory.delete(created.sub);
      assert.equal(await legacyRow('ops@example.com'), undefined);
      await assert.rejects(directory.get(created.sub), /No such user|not exist/i);
      assert.equal(await ferryAccounts(), 0);
    });
  });
}

customStore('postgres');
customStore('mysql');
