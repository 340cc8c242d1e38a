import assert from 'node:assert/strict';
import type { AuditItem } from '../../src/audit/index.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Secret, TOTP } from 'otpauth';
import { hashIdentifier } from '../../src/audit/index.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, TEST_CLIENT, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, ferryForSuite, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';
import { startSmtpServer } from '../helpers/smtp.ts';

const USER = { email: 'audited@example.com', username: 'audited', name: 'Audited User', password: 'audited-legacy-pw' };
const WRONG = 'a-wrong-password-typed';
/** A secret variable of the connection, pasted into a script by mistake: the audit log masks it. */
const API_KEY = 'sk-live-audit-secret-0123456789';

/** An event as the API answers it; the tests read details loosely (their shapes are checked by assertions). */
// biome-ignore lint/suspicious/noExplicitAny: see above
type Event = Omit<AuditItem, 'detail' | 'at'> & { detail: Record<string, any> };

/**
 * The audit log through real parts: sign-ins through openid-client and the hosted login page, a
 * lazy migration from a PostgreSQL legacy database, admin changes through the admin API, read
 * back through GET /api/v1/audit and its JSON-lines export.
 */
describe('audit log', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  const api = () => adminClient(ferry);
  const events = async (query = ''): Promise<Event[]> => {
    const answer = await api().get(`/audit${query}`);
    assert.equal(answer.status, 200, answer.text);
    return answer.body.items;
  };

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', [USER]);
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url, API_KEY } },
      // One free failure, then a wait: the third attempt below is throttled.
      bruteForce: {
        account: { freeFailures: 1, baseDelayMs: 60_000, maxDelayMs: 60_000, maxFailures: 100, resetAfterSeconds: 3600 },
        ip: { freeFailures: 1000, baseDelayMs: 0, maxDelayMs: 0, maxFailures: 1_000_000, resetAfterSeconds: 900 },
      },
    });
    rp = await relyingParty(ferry);
  });
  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('records an admin script save with the source before and after, a secret in it masked, and who saved it', async () => {
    const source = `${readFileSync(join(TEMPLATES, 'postgres', 'login.js'), 'utf8')}\n// key: ${API_KEY}\n`;
    assert.equal((await api().put('/scripts/login', { source, note: 'the template' })).status, 200);
    const [saved] = await events('?type=admin.script.saved');
    assert.ok(saved);
    assert.deepEqual([saved.actor, saved.subject], ['adminToken', 'login']);
    assert.equal(saved.detail.before.origin, 'default');
    assert.match(saved.detail.before.source, /Please implement the Login script/);
    assert.equal(saved.detail.after.version, 1);
    assert.match(saved.detail.after.source, /\/\/ key: \*{8}/);
    assert.ok(!JSON.stringify(saved).includes(API_KEY), 'the secret is masked');
    const rows = await ferry.ferry.db.query<{ detail: unknown }>(`select detail from audit_events where type = 'admin.script.saved'`);
    assert.ok(!JSON.stringify(rows.rows).includes(API_KEY), 'nor is it in the table');
  });

  it('records a connection change with the secrets masked, and names a secret that changed', async () => {
    const answer = await api().patch('/connection', { env: { API_KEY: 'sk-live-another-secret-987654', REGION: 'eu' } });
    assert.equal(answer.status, 200, answer.text);
    const [change] = await events('?type=admin.connection.changed');
    assert.equal(change?.actor, 'adminToken');
    assert.deepEqual(change?.detail.secretsChanged, ['API_KEY']);
    assert.equal(change?.detail.after.env.REGION, 'eu');
    assert.equal(change?.detail.after.env.API_KEY, '********');
    assert.equal(change?.detail.before.env.REGION, undefined);
    const text = JSON.stringify(change);
    assert.ok(!text.includes('sk-live-another-secret-987654') && !text.includes(API_KEY), 'no secret, old or new');
    // Back as it was, for the sign-ins below.
    assert.equal((await api().patch('/connection', { env: { API_KEY, REGION: null } })).status, 200);
  });

  it('records a lazy migration and a sign-in success, a failure and a throttle block, with the identifier hashed and no password anywhere', async () => {
    const tokens = await signIn(ferry, rp, new Browser(), USER.email, USER.password);
    const sub = tokens.claims()!.sub;

    // Wrong passwords until the throttle makes the next attempt wait.
    const statuses: number[] = [];
    for (let i = 0; i < 4 && !statuses.includes(429); i++) {
      const browser = new Browser();
      const { page } = await beginAuthorization(ferry, rp, browser);
      statuses.push((await browser.submit(page, '/login', { identifier: USER.email, password: WRONG })).status);
    }
    assert.equal(statuses.at(-1), 429, `throttled at last: ${statuses.join(', ')}`);

    const signIns = await events('?type=sign-in.');
    assert.deepEqual(
      signIns.map((event) => [event.type, event.outcome, event.subject]),
      [
        ['sign-in.throttled', 'throttled', sub],
        ...statuses.slice(0, -1).map(() => ['sign-in.failed', 'invalid_credentials', sub]),
        ['sign-in.succeeded', 'success', sub],
      ],
    );
    for (const event of signIns) {
      assert.equal(event.identifierHash, hashIdentifier(USER.email));
      assert.equal(event.clientId, TEST_CLIENT.client_id);
      assert.ok(event.ip, 'the IP is kept');
    }
    const [migrated] = await events('?type=user.migrated');
    assert.deepEqual([migrated?.subject, migrated?.outcome], [sub, 'created']);

    const table = JSON.stringify((await ferry.ferry.db.query('select * from audit_events')).rows);
    for (const secret of [USER.password, WRONG, USER.email]) assert.ok(!table.includes(secret), `${secret} is not in the audit table`);
  });

  it('records a client change with what changed, the counts of an import and a user block by subject', async () => {
    const created = await api().post('/clients', { client_name: 'Audited App', redirect_uris: ['https://app.example/cb'] });
    assert.equal(created.status, 201, created.text);
    const clientId = created.body.client.clientId;
    const changed = await api().put(`/clients/${clientId}`, { client_name: 'Renamed App', redirect_uris: ['https://app.example/cb'] });
    assert.equal(changed.status, 200, changed.text);
    const [change] = await events('?type=admin.client.changed');
    assert.equal(change?.subject, clientId);
    assert.deepEqual(change?.detail.before.metadata.client_name, 'Audited App');
    assert.deepEqual(change?.detail.after.metadata.client_name, 'Renamed App');
    assert.ok(!JSON.stringify(await events()).includes(created.body.clientSecret), 'the client secret is not recorded');

    const imported = await api().post('/users/import', { users: [{ email: 'no-id@example.com' }] });
    assert.equal(imported.status, 200, imported.text);
    const [importEvent] = await events('?type=admin.users.imported');
    assert.deepEqual([importEvent?.outcome, importEvent?.detail], ['partial', { created: 0, skipped: 0, updated: 0, failed: 1 }]);

    const { items } = (await api().get('/users')).body;
    const sub = items?.[0]?.sub ?? (await api().get('/users')).body.users[0].sub;
    assert.equal((await api().put(`/users/${sub}/block`)).status, 200);
    const [blocked] = await events(`?subject=${encodeURIComponent(sub)}&type=user.blocked`);
    assert.deepEqual([blocked?.type, blocked?.actor], ['user.blocked', 'adminToken']);
  });

  it('shows the events on the console, filtered, and records who acted through the console', async () => {
    const browser = new Browser();
    const login = await browser.get(`${ferry.issuer}/console/login`);
    await browser.submit(login, '/console/login', { token: ADMIN_TOKEN });
    const sub = (await api().get('/users')).body.users[0].sub;
    const user = await browser.get(`${ferry.issuer}/console/users/${encodeURIComponent(sub)}`);
    assert.equal((await browser.submit(user, `/users/${encodeURIComponent(sub)}/unblock`)).status, 200);
    const [unblocked] = await events('?type=user.unblocked');
    assert.deepEqual([unblocked?.subject, unblocked?.actor], [sub, 'adminToken (console)']);

    // A named admin's key: the audit log says who, by the key's name.
    const created = await api().post('/admin-keys', { name: 'ops ann', role: 'operator' });
    assert.equal(created.status, 201, created.text);
    assert.equal((await adminClient(ferry, created.body.key).put(`/users/${encodeURIComponent(sub)}/block`)).status, 200);
    const [blocked] = await events('?type=user.blocked');
    assert.equal(blocked?.actor, 'ops ann');

    const page = await browser.get(`${ferry.issuer}/console/audit?type=admin.`);
    assert.equal(page.status, 200);
    assert.match(page.html, /<table id="audit-events">/);
    assert.match(page.html, /<td>admin\.script\.saved<\/td>/);
    assert.doesNotMatch(page.html, /<td>sign-in\.succeeded<\/td>/, 'the filter holds');
    assert.ok(!page.html.includes(API_KEY));
    const none = await browser.get(`${ferry.issuer}/console/audit?subject=nobody-at-all`);
    assert.match(none.html, /id="no-events"/);
    assert.equal((await browser.get(`${ferry.issuer}/console/audit?since=yesterday`)).status, 400);
  });

  it('filters by type, subject and time, pages with `before` and exports every match as JSON lines', async () => {
    const all = await events('?limit=500');
    assert.ok(all.length >= 8);
    assert.ok(
      all.every((event, i) => i === 0 || all[i - 1]!.id > event.id),
      'newest first',
    );
    const first = await api().get('/audit?limit=2');
    assert.equal(first.body.items.length, 2);
    const second = await api().get(`/audit?limit=2&before=${first.body.next}`);
    assert.deepEqual(
      [...first.body.items, ...second.body.items].map((event: Event) => event.id),
      all.slice(0, 4).map((event) => event.id),
    );
    assert.deepEqual(await events(`?since=${new Date(Date.now() + 60_000).toISOString()}`), []);
    assert.equal((await events(`?until=${new Date(Date.now() + 60_000).toISOString()}&limit=500`)).length, all.length);
    assert.equal((await api().get('/audit?type=Not A Type')).status, 400);

    const exported = await fetch(`${ferry.issuer}/api/v1/audit/export?type=admin.`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(exported.status, 200);
    assert.match(exported.headers.get('content-type') ?? '', /application\/x-ndjson/);
    const lines = (await exported.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Event);
    assert.deepEqual(
      lines.map((event) => event.id),
      all.filter((event) => event.type.startsWith('admin.')).map((event) => event.id),
    );
    const document = (await api().get('/openapi.json')).body;
    assert.ok(document.paths['/api/v1/audit'].get && document.paths['/api/v1/audit/export'].get.responses['200'].content['application/x-ndjson']);
  });

  it('prunes events older than audit.retentionDays', async () => {
    await ferry.ferry.db.query(`update audit_events set at = now() - interval '91 days' where type = 'user.migrated'`);
    const before = (await events('?limit=500')).length;
    assert.equal(await ferry.ferry.audit.prune(), 1);
    const left = await events('?limit=500');
    assert.equal(left.length, before - 1);
    assert.ok(!left.some((event) => event.type === 'user.migrated'));
  });
});

describe('audit log at shutdown', () => {
  it('writes the events still buffered before the database closes', async () => {
    const lines: string[] = [];
    const first = await startFerry({ adminToken: ADMIN_TOKEN }, undefined, { lines });
    let ferry = first;
    try {
      // Buffered, not written on the recording request's path (a sign-in's statements stay at 12).
      const count = async () =>
        (await first.ferry.db.query<{ n: number }>(`select count(*)::int as n from audit_events where type = 'test.buffered'`)).rows[0]!.n;
      first.ferry.audit.record({ type: 'test.buffered', subject: 'flushed' });
      assert.equal(await count(), 0, 'not written at once');
      const logged = lines.map((line) => JSON.parse(line)).filter((line) => line.audit && line.type === 'test.buffered');
      assert.deepEqual(
        logged.map((line) => [line.msg, line.subject]),
        [['audit test.buffered', 'flushed']],
        'one log line per event, to ship elsewhere',
      );
      await first.ferry.audit.flush();
      assert.equal(await count(), 1, 'written by the batch');
      // Recorded and stopped at once: the batch timer has not fired, the shutdown writes it.
      first.ferry.audit.record({ type: 'test.buffered', subject: 'someone' });
      ferry = await first.restart();
      const answer = await adminClient(ferry).get('/audit?type=test.buffered');
      assert.deepEqual(
        answer.body.items.map((event: Event) => event.subject),
        ['someone', 'flushed'],
      );
    } finally {
      await ferry.stop();
      removeDataDir(ferry.dataDir);
    }
  });
});

describe('audit log of second factors', () => {
  const suite = ferryForSuite({ adminToken: ADMIN_TOKEN });

  it('records a second factor turned on and off by its user, and removed by an administrator', async () => {
    const browser = new Browser();
    const registered = await registerThroughForm(suite.ferry, suite.rp, browser, { email: 'factor@example.com', password: 'factor own password' });
    const sub = (await oidc.authorizationCodeGrant(suite.rp, new URL(registered.result.url), registered.checks)).claims()!.sub;
    const turnOn = async () => {
      const enrol = await browser.get(`${suite.ferry.issuer}/account/two-step`);
      const secret = /id="totp-secret">([A-Z2-7]+)</.exec(enrol.html)![1]!;
      const code = (steps: number) =>
        new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() + steps * 30_000 });
      const on = await browser.submit(enrol, '/account/two-step/confirm', { code: code(0) });
      assert.equal(on.status, 200);
      return { recovery: /<li><code>([a-z0-9-]+)<\/code><\/li>/.exec(on.html)![1]! };
    };
    const { recovery } = await turnOn();
    const manage = await browser.get(`${suite.ferry.issuer}/account/two-step`);
    assert.match((await browser.submit(manage, '/account/two-step/off', { code: recovery })).html, /id="two-step-off"/);
    await turnOn();
    const api = adminClient(suite.ferry);
    assert.equal((await api.delete(`/users/${encodeURIComponent(sub)}/second-factors`)).status, 200);

    const items: Event[] = (await api.get(`/audit?subject=${encodeURIComponent(sub)}&type=second-factor.`)).body.items;
    assert.deepEqual(
      items.map((event) => [event.type, event.actor]),
      [
        ['second-factor.reset', 'adminToken'],
        ['second-factor.on', 'user'],
        ['second-factor.off', 'user'],
        ['second-factor.on', 'user'],
      ],
    );
  });
});

describe('audit log of password resets', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let ferry: TestFerry;
  before(async () => {
    smtp = await startSmtpServer();
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, mail: { smtpUrl: smtp.url, from: 'no-reply@ferry.test', pollIntervalMs: 100 } });
  });
  after(async () => {
    await ferry?.stop();
    await smtp?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('records a completed reset by subject, and nothing for the request', async () => {
    const api = adminClient(ferry);
    const user = { email: 'resetting@example.com', password: 'the first password' };
    const sub = (await api.post('/users', user)).body.sub;
    const count = async () => (await api.get('/audit?limit=500')).body.items.length;
    const before = await count();

    const browser = new Browser();
    const { page: login } = await beginAuthorization(ferry, await relyingParty(ferry), browser);
    const href = /<a href="([^"]+)">Forgot password\?<\/a>/.exec(login.html)![1]!;
    const form = await browser.get(new URL(href, login.url).href);
    assert.equal(form.status, 200, form.html.slice(0, 300));
    await browser.submit(form, '/forgot', { identifier: user.email });
    const mail = await smtp.waitFor((received) => received.to.includes(user.email));
    assert.equal(await count(), before, 'a request is not recorded');

    const link = /(http\S+\/account\/reset\?token=[A-Za-z0-9_-]+)/.exec(mail.text)![1]!;
    const page = await browser.get(link);
    await browser.submit(page, '/account/reset', { password: 'the second password', password_confirm: 'the second password' });
    const items: Event[] = (await api.get('/audit?type=password.reset')).body.items;
    assert.deepEqual(
      items.map((event) => [event.subject, event.identifierHash]),
      [[sub, null]],
    );
  });
});
