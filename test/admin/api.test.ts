import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import * as oidc from 'openid-client';
import { createKeyQueries } from '../../src/store/queries/keys.ts';
import { ADMIN_TOKEN, adminClient, type ApiAnswer } from '../helpers/admin.ts';
import { Browser, findForm } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';
import { runCli } from './run-cli.ts';

const USERS = [
  { email: 'alice@example.com', username: 'alice', phone: '+15550000001', name: 'Alice Liddell', password: 'alice-legacy-pw' },
  { email: 'bob@example.com', username: 'bob', name: 'Bob Kahn', password: 'bob-legacy-pw' },
  { email: 'carol@example.com', username: 'carol', name: 'Carol Shaw', password: 'carol-legacy-pw' },
];
const template = (name: string) => readFileSync(join(TEMPLATES, 'postgres', `${name}.js`), 'utf8');
type OpenApiDocument = {
  openapi: string;
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; parameters: { name: string; in: string }[] }>>;
};

/** Every $ref in a document. */
function refsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refsIn);
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => (key === '$ref' && typeof item === 'string' ? [item] : refsIn(item)));
}

/** What a local $ref (`#/a/b`, JSON Pointer) points at, or undefined. */
function resolveRef(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((part) => decodeURIComponent(part).replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined), doc);
}

/** A call that waits out the admin API's rate limit (this test sends many requests at once). */
async function patiently(call: () => Promise<ApiAnswer>): Promise<ApiAnswer> {
  for (;;) {
    const answer = await call();
    if (answer.status !== 429) return answer;
    await new Promise((resolve) => setTimeout(resolve, Number(answer.headers.get('retry-after') ?? 1) * 1000));
  }
}

const accountCount = async (ferry: TestFerry) => (await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts')).rows[0]!.n;

describe('admin API against a real PostgreSQL legacy database (scripts kept in Ferry)', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let api: ReturnType<typeof adminClient>;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', USERS);
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url } } });
    api = adminClient(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('refuses requests without the bearer token or with a wrong one', async () => {
    for (const token of [null, 'wrong', `${ADMIN_TOKEN}x`]) {
      const answer = await adminClient(ferry, token).get('/users');
      assert.equal(answer.status, 401, `token ${token}`);
      assert.equal(answer.body.error, 'unauthorized');
      assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer/);
    }
    assert.equal((await adminClient(ferry, null).call('GET', '/users', undefined, { authorization: `Basic ${ADMIN_TOKEN}` })).status, 401);
    assert.equal((await adminClient(ferry, null).get('/no-such-thing')).status, 401, 'unknown paths do not answer before the token is checked');
  });

  it('answers 400 with details for invalid input', async () => {
    const missing = await api.post('/users', { name: 'No Password' });
    assert.equal(missing.status, 400);
    assert.equal(missing.body.error, 'invalid_request');
    assert.deepEqual(
      missing.body.details.map((detail: { path: string }) => detail.path),
      ['password'],
    );
    const unknownKey = await api.post('/users', { email: 'x@example.com', password: 'long enough pw', admin: true });
    assert.equal(unknownKey.status, 400);
    assert.match(JSON.stringify(unknownKey.body.details), /admin/);
    assert.equal((await api.get('/users?limit=1000')).status, 400);
    assert.equal((await api.get('/executions?since=yesterday')).status, 400);
    const mode = await api.patch('/connection', { mode: 'SOMETHING_ELSE' });
    assert.equal(mode.status, 400);
    assert.equal(mode.body.details[0].path, 'mode');
    assert.equal((await api.put('/scripts/notAScript', { source: 'x' })).status, 400);
    const notJson = await api.call('POST', '/users', undefined, { 'content-type': 'text/plain' });
    assert.equal(notJson.status, 400);
    assert.equal((await api.patch('/users/someone', { password: 'changed password' })).status, 400, 'passwords change through their own endpoint');
  });

  it('creates, reads, lists, searches, changes and deletes Ferry accounts, never showing a password hash', async () => {
    const created = await api.post('/users', { email: 'Dora@Example.com', username: 'dora', name: 'Dora Explorer', password: 'dora-local-pw' });
    assert.equal(created.status, 201);
    assert.equal(created.body.email, 'dora@example.com');
    assert.equal(created.body.source, 'local');
    assert.equal(created.headers.get('location'), `/api/v1/users/${encodeURIComponent(created.body.sub)}`);
    const sub = encodeURIComponent(created.body.sub);

    assert.equal((await api.get(`/users/${sub}`)).body.username, 'dora');
    await api.post('/users', { username: 'eve', password: 'eve-local-pw1' });
    const page = await api.get('/users?page=1&limit=1');
    assert.deepEqual([page.body.total, page.body.page, page.body.limit, page.body.users.length], [2, 1, 1, 1]);
    assert.equal((await api.get('/users?page=2&limit=1')).body.users[0].username, 'eve');
    const found = await api.get('/users?q=explorer');
    assert.deepEqual(
      found.body.users.map((user: { username: string }) => user.username),
      ['dora'],
    );
    // 'e' matches both (dora@example.com, eve): a page of one, and the count of every match.
    const second = await api.get('/users?q=e&page=2&limit=1');
    assert.deepEqual([second.body.total, second.body.page, second.body.limit], [2, 2, 1]);
    assert.deepEqual(
      second.body.users.map((user: { username: string }) => user.username),
      ['eve'],
    );
    assert.deepEqual([(await api.get('/users?q=e&page=3&limit=1')).body.users, (await api.get('/users?q=e')).body.total], [[], 2]);

    const changed = await api.patch(`/users/${sub}`, { nickname: 'Dee', email: 'dora2@example.com' });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.profile.nickname, 'Dee');
    assert.equal(changed.body.email, 'dora2@example.com');
    assert.equal((await api.post('/users', { email: 'dora2@example.com', password: 'another password' })).status, 409);

    assert.equal((await api.put(`/users/${sub}/password`, { password: 'short' })).status, 400);
    assert.equal((await api.put(`/users/${sub}/password`, { password: 'dora-new-password' })).status, 204);
    const { rows } = await ferry.ferry.db.query<{ password_hash: string }>('select password_hash from accounts where username = $1', ['dora']);
    assert.ok(await ferry.ferry.federation.signIn.signIn('dora', 'dora-new-password', { ip: '127.0.0.1' }).then((result) => result.ok));

    assert.equal((await api.delete(`/users/${sub}`)).status, 204);
    assert.equal((await api.get(`/users/${sub}`)).status, 404);
    assert.equal((await api.delete(`/users/${sub}`)).status, 404);
    assert.ok(!api.seen().includes(rows[0]!.password_hash), 'no answer carries a password hash');
    assert.ok(!/password_hash|passwordHash|argon2/.test(api.seen()));
  });

  it('saves scripts as versions, lists their history and rolls back by saving the old source again', async () => {
    const list = await api.get('/scripts');
    assert.equal(list.body.items.length, 8);
    assert.ok(list.body.items.every((item: { origin: string; version: null }) => item.origin === 'default' && item.version === null));
    assert.match((await api.get('/scripts/login')).body.source, /Please implement the Login script/);

    const draft = 'async function login(query, password, context) {\n  throw new Error("not yet");\n}\n';
    const first = await api.put('/scripts/login', { source: draft, note: 'placeholder' });
    assert.equal(first.status, 200);
    assert.deepEqual([first.body.version, first.body.origin, first.body.readOnly], [1, 'store', false]);
    const second = await api.put('/scripts/login', { source: template('login'), note: 'the PostgreSQL template' });
    assert.equal(second.body.version, 2);

    const versions = await api.get('/scripts/login/versions');
    assert.deepEqual(
      versions.body.items.map((item: { version: number; note: string }) => [item.version, item.note]),
      [
        [2, 'the PostgreSQL template'],
        [1, 'placeholder'],
      ],
    );
    const rolled = await api.post('/scripts/login/rollback', { version: 1 });
    assert.equal(rolled.body.version, 3);
    assert.equal(rolled.body.source, draft);
    assert.equal((await api.post('/scripts/login/rollback', { version: 99 })).status, 404);
    assert.equal((await api.put('/scripts/login', { source: template('login') })).body.version, 4);
    for (const name of ['getUser', 'listUsers']) assert.equal((await api.put(`/scripts/${name}`, { source: template(name) })).status, 200);
    const after = await api.get('/scripts');
    assert.deepEqual(
      after.body.items
        .filter((item: { origin: string }) => item.origin === 'store')
        .map((item: { name: string; version: number }) => [item.name, item.version]),
      [
        ['login', 4],
        ['getUser', 1],
        ['listUsers', 1],
      ],
    );
  });

  it('refuses to save a script that does not parse, lacks its function or exceeds maxScriptKb, saying where', async () => {
    const before = (await api.get('/scripts/login')).body.version;
    const broken = await api.put('/scripts/login', { source: 'async function login(query, password, context) {\n  const x = ;\n}\n' });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error, 'invalid_script');
    assert.match(broken.body.message, /syntax error at line 2, column 13: Unexpected token ';'/);
    assert.deepEqual([broken.body.details[0].line, broken.body.details[0].column], [2, 13]);
    const misnamed = await api.put('/scripts/login', { source: 'async function logIn(query, password, context) {\n  return null;\n}\n' });
    assert.equal(misnamed.status, 400);
    assert.match(misnamed.body.message, /must define a function named login/);
    const huge = await api.put('/scripts/login', { source: `async function login() {}\n// ${'x'.repeat(257 * 1024)}` });
    assert.equal(huge.status, 400);
    assert.match(huge.body.message, /the limit \(connection.limits.maxScriptKb\) is 256 KiB/);
    assert.equal((await api.get('/scripts/login')).body.version, before, 'nothing was saved');

    for (const source of [
      'const updateUser = async (id, updates) => {};',
      'var updateUser = function () {};',
      'globalThis.updateUser = async function () {};',
    ]) {
      assert.equal((await api.put('/scripts/updateUser', { source })).status, 200, source);
    }
    const throws = await api.put('/scripts/updateUser', { source: 'throw new Error("ran at save");\nasync function updateUser() {}' });
    assert.equal(throws.status, 200, 'the script is compiled, never run, when it is saved');
  });

  it('saves through the console a script of any size the API takes, and shows where a broken one is wrong', async () => {
    const browser = new Browser();
    const login = await browser.get(`${ferry.issuer}/console/login`);
    await browser.submit(login, '/console/login', { token: ADMIN_TOKEN });
    const editor = await browser.get(`${ferry.issuer}/console/scripts/updateUser`);
    const large = `async function updateUser(id, updates, context) {\n  return;\n}\n// ${'x'.repeat(200 * 1024)}\n`;
    // Save is a button of the Test form (formaction).
    const form = findForm(editor, '/test');
    const save = (values: Record<string, string>) =>
      browser.request(`${ferry.issuer}/console/scripts/updateUser/save`, { form: { ...form.fields, ...values } });
    const saved = await browser.follow(await save({ source: large, note: '200 KiB' }));
    assert.equal(saved.status, 200, saved.html.slice(0, 300));
    assert.match(saved.html, /saved as a new version/);
    assert.equal((await api.get('/scripts/updateUser')).body.source, large);
    const broken = await save({ source: 'async function updateUser( {\n}\n' });
    assert.equal(broken.status, 400);
    assert.match(broken.html, /syntax error at line \d+, column \d+: Unexpected/);
  });

  it('tests the login script like a real sign-in, without creating a Ferry account or echoing the password', async () => {
    const before = await accountCount(ferry);
    const ok = await api.post('/scripts/login/test', { identifier: 'ALICE@example.com', password: 'alice-legacy-pw' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.ok, true);
    assert.equal(ok.body.kind, 'ok');
    assert.equal(ok.body.value.email, 'alice@example.com');
    assert.equal(ok.body.value.name, 'Alice Liddell');
    assert.equal(ok.body.value.password, undefined, 'the hash is not part of the profile');
    assert.match(ok.body.value.updatedAt, /^\d{4}-\d{2}-\d{2}T/, 'dates stay dates');
    assert.equal(ok.body.message, null);
    assert.ok(ok.body.durationMs > 0);
    assert.equal(await accountCount(ferry), before, 'testing does not migrate anyone');

    const wrong = await api.post('/scripts/login/test', { identifier: 'bob', password: 'not-bobs-password' });
    assert.deepEqual([wrong.body.ok, wrong.body.kind, wrong.body.message], [false, 'script_error', 'Password is not valid!']);

    const draft =
      'async function login(query, password, context) {\n  console.log("draft sees", query.username, password, context.request.body.identifier);\n  return { id: "draft-1", username: query.username };\n}\n';
    const drafted = await api.post('/scripts/login/test', { identifier: 'Carol', password: 'carol-legacy-pw', source: draft });
    assert.equal(drafted.body.ok, true);
    assert.equal(drafted.body.value.id, 'draft-1');
    assert.equal(drafted.body.logs[0].message, 'draft sees carol ******** Carol', 'identifiers are normalised as at sign-in; the password is masked');
    assert.equal((await api.get('/scripts/login')).body.version, 4, 'a draft is not saved');

    const getUser = await api.post('/scripts/getUser/test', { query: { email: 'Bob@Example.com' } });
    assert.equal(getUser.body.value.username, 'bob');
    const listUsers = await api.post('/scripts/listUsers/test', { page: 1, limit: 2 });
    assert.equal(listUsers.body.value.totalCount, 3);
    assert.equal(listUsers.body.value.list.length, 2);
    const notWritten = await api.post('/scripts/deleteUser/test', { id: '1' });
    assert.deepEqual([notWritten.body.ok, notWritten.body.message], [false, 'Please implement the Delete User script for this database connection']);
    const badArgs = await api.post('/scripts/login/test', { identifier: 'alice' });
    assert.equal(badArgs.status, 400);
    assert.equal(badArgs.body.details[0].path, 'password');

    for (const password of ['alice-legacy-pw', 'not-bobs-password', 'carol-legacy-pw'])
      assert.ok(!api.seen().includes(password), `${password} is never echoed`);
  });

  it('lists executions newest first, filtered, a page at a time', async () => {
    const failed = await api.get('/executions?script=login&outcome=script_error');
    assert.ok(failed.body.items.length >= 1);
    assert.ok(failed.body.items.every((item: { script: string; outcome: string }) => item.script === 'login' && item.outcome === 'script_error'));
    assert.equal(failed.body.items[0].message, 'Password is not valid!');

    const first = await api.get('/executions?limit=2');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.items[0].id > first.body.items[1].id);
    assert.equal(first.body.next, first.body.items[1].id);
    const second = await api.get(`/executions?limit=2&before=${first.body.next}`);
    assert.ok(second.body.items.every((item: { id: number }) => item.id < first.body.next));

    const future = new Date(Date.now() + 3600_000).toISOString();
    assert.deepEqual((await api.get(`/executions?since=${encodeURIComponent(future)}`)).body, { items: [], next: null });
    const all = await api.get(`/executions?until=${encodeURIComponent(future)}&limit=200`);
    assert.ok(all.body.items.some((item: { script: string }) => item.script === 'listUsers'));
    assert.ok(!all.text.includes('carol-legacy-pw'), 'logged console lines keep the password masked');
  });

  it('reports migration progress after a real lazy-migration sign-in', async () => {
    const before = await api.get('/migration');
    assert.equal(before.status, 200);
    assert.deepEqual([before.body.migrated, before.body.legacyTotal, before.body.progress], [0, 3, 0]);
    assert.equal(before.body.local, 1, 'eve, created through the API');
    assert.equal(before.body.perDay.length, 30);
    assert.match(before.body.perDay[29].day, /^\d{4}-\d{2}-\d{2}$/);

    await signIn(ferry, await relyingParty(ferry), new Browser(), 'alice@example.com', 'alice-legacy-pw');
    const after = await api.get('/migration');
    assert.deepEqual([after.body.migrated, after.body.local, after.body.legacyTotal, after.body.progress], [1, 1, 3, 33.3]);
    assert.equal(after.body.perDay[29].day, new Date().toISOString().slice(0, 10));
    assert.equal(after.body.perDay[29].count, 1);
    assert.deepEqual(after.body.failures, {});
    const migrated = await api.get('/users?q=alice');
    assert.equal(migrated.body.users[0].source, 'migrated');
  });

  it('counts a refused migration by kind, in the API, the console and the CLI', async () => {
    assert.deepEqual((await api.get('/migration')).body.failures, {});
    // Someone registered bob's email in Ferry before bob first signed in: his migration conflicts.
    assert.equal((await api.post('/users', { email: 'bob@example.com', password: 'registered first 1' })).status, 201);
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, await relyingParty(ferry), browser);
    const refused = await browser.submit(page, '/login', { identifier: 'bob@example.com', password: 'bob-legacy-pw' });
    assert.notEqual(refused.status, 303, 'bob is not signed in');

    const status = await api.get('/migration');
    assert.deepEqual(status.body.failures, { conflict: 1 });
    assert.equal(status.body.migrated, 1, 'bob was not migrated');

    const console = new Browser();
    await console.submit(await console.get(`${ferry.issuer}/console/login`), '/console/login', { token: ADMIN_TOKEN });
    const migrationPage = await console.get(`${ferry.issuer}/console/migration`);
    assert.match(migrationPage.html, /<ul id="failures"><li>conflict: 1<\/li><\/ul>/);

    const cwd = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
    try {
      const cli = await runCli(['migration', 'status', '--url', ferry.url], { cwd, env: { FERRY_ADMIN_TOKEN: ADMIN_TOKEN } });
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /^Refused: +1 conflict$/m);
    } finally {
      removeDataDir(cwd);
    }
  });

  it('rotates the signing keys and publishes the new ones at once', async () => {
    const rotated = await api.post('/keys/rotate');
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.kids.length, 2);
    assert.equal(rotated.body.retired, 2);
    const jwks = (await (await fetch(`${ferry.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    for (const kid of rotated.body.kids)
      assert.ok(
        jwks.keys.some((key) => key.kid === kid),
        `${kid} is published`,
      );
    const tokens = await signIn(ferry, await relyingParty(ferry), new Browser(), 'alice', 'alice-legacy-pw');
    const header = JSON.parse(Buffer.from(tokens.id_token!.split('.')[0]!, 'base64url').toString());
    assert.ok(rotated.body.kids.includes(header.kid), 'new ID tokens are signed with a new key');
  });

  it('serves a valid OpenAPI 3.1 document that lists exactly the routes it serves, every one refusing a missing or wrong token', async () => {
    const response = await fetch(`${ferry.issuer}/api/v1/openapi.json`);
    assert.equal(response.status, 200, 'no token needed');
    const doc = (await response.json()) as OpenApiDocument;
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    const validation = await new Validator().validate(doc);
    assert.ok(validation.valid, `the document is valid OpenAPI 3.1: ${JSON.stringify(validation.errors, null, 2)}`);
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ method, path, operation })));
    const ids = operations.map(({ operation }) => operation.operationId);
    assert.ok(
      ids.every((id) => typeof id === 'string' && id !== ''),
      'every operation has an operationId',
    );
    assert.equal(new Set(ids).size, ids.length, `operationIds are unique: ${ids.join(', ')}`);
    const refs = refsIn(doc);
    assert.ok(refs.length > 0);
    for (const ref of refs) assert.notEqual(resolveRef(doc, ref), undefined, `${ref} resolves`);

    // What this server's router serves, read from its layers.
    const documented = operations.map(({ method, path }) => `${method.toUpperCase()} ${path}`).sort();
    const served = ferry.ferry.admin.api.router.stack
      .flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`))
      .sort();
    assert.deepEqual(documented, served);

    // Every documented operation answers over HTTP (a 404 here would be "unknown_endpoint"), and
    // only with the token (but the document itself).
    for (const { method, path, operation } of operations) {
      for (const parameter of operation.parameters.filter((p) => p.in === 'path')) assert.ok(path.includes(`{${parameter.name}}`));
      const concrete = path.replace('/api/v1', '').replace('{sub}', 'nobody').replace('{name}', 'getUser').replace('{clientId}', 'nobody');
      const body = method === 'get' || method === 'delete' ? undefined : {};
      const answer = await patiently(() => api.call(method.toUpperCase(), concrete, body));
      assert.notEqual(answer.body?.error, 'unknown_endpoint', `${method} ${path} is served`);
      assert.notEqual(answer.status, 405, `${method} ${path} is served`);
      const public_ = path === '/api/v1/openapi.json';
      assert.equal('401' in operation.responses, !public_, `${method} ${path} documents 401 unless it is public`);
      for (const token of [null, 'wrong', `${ADMIN_TOKEN}x`]) {
        const refused = await patiently(() => adminClient(ferry, token).call(method.toUpperCase(), concrete, body));
        if (public_) assert.equal(refused.status, 200, `${method} ${path} is public`);
        else assert.deepEqual([refused.status, refused.body?.error], [401, 'unauthorized'], `${method} ${path} with token ${token}`);
      }
    }
    const unknown = await patiently(() => api.get('/not-documented'));
    assert.deepEqual([unknown.status, unknown.body.error], [404, 'unknown_endpoint']);
    assert.equal((await patiently(() => api.call('DELETE', '/connection'))).status, 405);
  });

  it('slows down a client that sends too many requests', async () => {
    await new Promise((resolve) => setTimeout(resolve, 3100)); // the bucket refills from the tests above
    // 60 at once, then 20 a second: 200 requests at once outrun the refill even on a loaded machine (90 did not always).
    const answers = await Promise.all(Array.from({ length: 200 }, () => api.get('/connection')));
    const limited = answers.filter((answer) => answer.status === 429);
    assert.ok(limited.length > 0, 'some requests are refused');
    assert.ok(answers.filter((answer) => answer.status === 200).length >= 60, 'the burst goes through');
    assert.equal(limited[0]!.body.error, 'too_many_requests');
    assert.ok(Number(limited[0]!.headers.get('retry-after')) >= 1);
  });
});

describe('admin API with a scripts folder, and secrets', () => {
  let ferry: TestFerry;
  let api: ReturnType<typeof adminClient>;

  before(async () => {
    ferry = await startFerry({
      adminToken: ADMIN_TOKEN,
      connection: {
        enabled: false,
        env: { DB_CONNECTION_URI: 'postgres://legacy:uri-secret-1@legacy-db:5432/app', PLAIN: 'visible' },
        scriptsDir: join(TEMPLATES, 'postgres'),
      },
    });
    api = adminClient(ferry);
  });
  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('treats the files as the source of truth: reads them, refuses saves, still tests drafts', async () => {
    const list = await api.get('/scripts');
    assert.ok(list.body.items.every((item: { origin: string }) => item.origin === 'file'));
    const login = await api.get('/scripts/login');
    assert.equal(login.body.readOnly, true);
    assert.equal(login.body.source, template('login'));
    const refused = await api.put('/scripts/login', { source: 'async function login() {}' });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'scripts_in_files');
    assert.match(refused.body.message, /source of truth/);
    assert.equal((await api.post('/scripts/login/rollback', { version: 1 })).status, 409);
    const draft = await api.post('/scripts/searchUser/test', {
      keyword: 'x',
      source: 'async function searchUser(keyword) { return [{ id: 1, nickname: keyword }]; }',
    });
    assert.deepEqual(draft.body.value, [{ id: 1, nickname: 'x' }]);
    const connection = await api.get('/connection');
    assert.equal(connection.body.scriptsSource, 'files');
    assert.equal(connection.body.scriptsDir, join(TEMPLATES, 'postgres'));
  });

  it('never returns secrets, keeps them when sent back masked, and switches connection forms cleanly', async () => {
    const first = await api.get('/connection');
    assert.equal(first.body.env.DB_CONNECTION_URI, 'postgres://legacy:********@legacy-db:5432/app');
    assert.equal(first.body.env.PLAIN, 'visible');
    assert.equal(first.body.form, 'uri');

    const patched = await api.patch('/connection', {
      enabled: true,
      env: { DB_PASSWORD: 'pw-secret-2', API_TOKEN: 'tok-secret-3', SIGNING_KEY: 'key-secret-4', DB_CONNECTION_URI: first.body.env.DB_CONNECTION_URI },
      limits: { timeoutMs: 5000 },
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.env, {
      DB_CONNECTION_URI: 'postgres://legacy:********@legacy-db:5432/app',
      PLAIN: 'visible',
      DB_PASSWORD: '********',
      API_TOKEN: '********',
      SIGNING_KEY: '********',
    });
    assert.equal(patched.body.limits.timeoutMs, 5000);
    assert.equal(patched.body.limits.memoryMb, 64, 'other limits are kept');
    const another = await api.patch('/connection', { limits: { memoryMb: 96 } });
    assert.equal(another.status, 200);
    assert.equal(another.body.limits.memoryMb, 96);
    assert.equal(another.body.limits.timeoutMs, 5000, 'a limit changed before, and left out now, keeps its value');
    const egress = await api.patch('/connection', { egress: { allow: ['legacy-db:5432', '10.0.0.0/8'] } });
    assert.equal(egress.status, 200);
    assert.deepEqual(egress.body.egress, { allow: ['legacy-db:5432', '10.0.0.0/8'] });
    assert.equal((await api.patch('/connection', { limits: { httpAllowlist: ['x'] } })).status, 400, 'the allowlist is no longer a limit');
    let env = (await ferry.ferry.federation.settings.current()).env;
    assert.equal(env.DB_CONNECTION_URI, 'postgres://legacy:uri-secret-1@legacy-db:5432/app', 'the masked URI kept the stored password');
    assert.equal(env.DB_PASSWORD, 'pw-secret-2');

    const renamed = await api.patch('/connection', {
      env: { DB_CONNECTION_URI: 'postgres://legacy_ro:********@legacy-db:5432/other', DB_PASSWORD: '********' },
    });
    assert.equal(renamed.status, 200);
    env = (await ferry.ferry.federation.settings.current()).env;
    assert.equal(
      env.DB_CONNECTION_URI,
      'postgres://legacy_ro:uri-secret-1@legacy-db:5432/other',
      'a changed URI on the same host and port keeps its masked password',
    );
    for (const elsewhere of ['postgres://legacy_ro:********@attacker.example:5432/other', 'postgres://legacy_ro:********@legacy-db:6543/other']) {
      const moved = await api.patch('/connection', { env: { DB_CONNECTION_URI: elsewhere } });
      assert.equal(moved.status, 400, `${elsewhere} is refused`);
      assert.equal(moved.body.error, 'masked_value');
      assert.match(moved.body.message, /DB_CONNECTION_URI names another host or port than the stored one, so its masked password is not kept/);
    }
    assert.equal((await ferry.ferry.federation.settings.current()).env.DB_CONNECTION_URI, env.DB_CONNECTION_URI, 'nothing was saved');

    const programmaticForm = { DB_HOST: 'db.internal', DB_PORT: '5432', DB_USERNAME: 'legacy', DB_DATABASE: 'app' };
    const maskedToNewHost = await api.patch('/connection', { env: { ...programmaticForm, DB_PASSWORD: '********' } });
    assert.equal(maskedToNewHost.status, 400, 'the stored DB_PASSWORD does not follow a new DB_HOST');
    assert.deepEqual(
      [maskedToNewHost.body.error, maskedToNewHost.body.message],
      ['masked_value', 'DB_HOST changed, so the stored DB_PASSWORD is not kept for another server: send DB_PASSWORD again.'],
    );
    const programmatic = await api.patch('/connection', { env: { ...programmaticForm, DB_PASSWORD: 'pw-secret-2' } });
    assert.equal(programmatic.body.form, 'programmatic');
    const sameServer = await api.patch('/connection', { env: { ...programmaticForm, DB_DATABASE: 'app2', DB_PASSWORD: '********' } });
    assert.equal(sameServer.status, 200, 'a masked DB_PASSWORD is kept while DB_HOST and DB_PORT stay');
    env = (await ferry.ferry.federation.settings.current()).env;
    assert.equal(env.DB_CONNECTION_URI, undefined, 'the programmatic form replaced the URI form');
    assert.deepEqual([env.DB_DATABASE, env.DB_PASSWORD], ['app2', 'pw-secret-2']);
    assert.equal(env.API_TOKEN, 'tok-secret-3', 'custom variables stay');
    for (const change of [{ DB_PORT: '6543', DB_PASSWORD: '********' }, { DB_HOST: 'attacker.example' }]) {
      const moved = await api.patch('/connection', { env: change });
      assert.equal(moved.status, 400, `${JSON.stringify(change)} keeps no password for another server`);
      assert.equal(moved.body.error, 'masked_value');
    }
    assert.deepEqual((await ferry.ferry.federation.settings.current()).env.DB_HOST, 'db.internal');

    const back = await api.patch('/connection', {
      env: { DB_CONNECTION_URI: 'mysql://app:uri-secret-5@db.internal:3306/app?password=q-secret-6', PLAIN: null },
    });
    assert.equal(back.body.form, 'uri');
    assert.deepEqual(Object.keys(back.body.env).sort(), ['API_TOKEN', 'DB_CONNECTION_URI', 'SIGNING_KEY']);
    assert.equal(back.body.env.DB_CONNECTION_URI, 'mysql://app:********@db.internal:3306/app?password=********');

    const unknownMasked = await api.patch('/connection', { env: { OTHER_SECRET: '********' } });
    assert.equal(unknownMasked.status, 400);
    assert.equal(unknownMasked.body.error, 'masked_value');

    await api.get('/connection');
    for (const secret of ['uri-secret-1', 'pw-secret-2', 'tok-secret-3', 'key-secret-4', 'uri-secret-5', 'q-secret-6']) {
      assert.ok(!api.seen().includes(secret), `${secret} appears in no answer`);
    }
  });
  it("never shows the connection's secrets in a script test's value, console lines or message, nor in the execution log", async () => {
    const secrets = { uriPassword: 'uri/secret-7', uriParam: 'param-secret-8', password: 'pw-secret-9', token: 'tok-secret-10', pin: '918273645' };
    const saved = await api.patch('/connection', {
      env: {
        DB_CONNECTION_URI: `postgres://legacy:${encodeURIComponent(secrets.uriPassword)}@legacy-db:5432/app?sslpassword=${secrets.uriParam}`,
        DB_PASSWORD: secrets.password,
        API_TOKEN: secrets.token,
        SECRET_PIN: secrets.pin,
      },
    });
    assert.equal(saved.status, 200);
    const draft = `async function searchUser(keyword, context) {
  console.log('uri', env.DB_CONNECTION_URI);
  console.log('decoded', decodeURIComponent(env.DB_CONNECTION_URI.split(':')[2].split('@')[0]));
  console.warn('password', env.DB_PASSWORD, 'token', env.API_TOKEN);
  return [{ id: env.DB_PASSWORD, nickname: env.API_TOKEN, [env.API_TOKEN]: 'as a key', pin: Number(env.SECRET_PIN), uri: env.DB_CONNECTION_URI }];
}`;
    const ran = await api.post('/scripts/searchUser/test', { keyword: 'x', source: draft });
    assert.equal(ran.status, 200);
    assert.equal(ran.body.ok, true, ran.body.message);
    assert.deepEqual(ran.body.value, [
      {
        id: '********',
        nickname: '********',
        '********': 'as a key',
        pin: '********',
        uri: 'postgres://legacy:********@legacy-db:5432/app?sslpassword=********',
      },
    ]);
    assert.deepEqual(
      ran.body.logs.map((line: { message: string }) => line.message),
      ['uri postgres://legacy:********@legacy-db:5432/app?sslpassword=********', 'decoded ********', 'password ******** token ********'],
    );
    const failed = await api.post('/scripts/login/test', {
      identifier: 'someone',
      password: 'given-password',
      source: 'async function login() { throw new Error("cannot connect as legacy/" + env.DB_PASSWORD); }',
    });
    assert.deepEqual([failed.body.kind, failed.body.message], ['script_error', 'cannot connect as legacy/********']);

    const history = await api.get('/executions?limit=10');
    await ferry.ferry.federation.executions.flush();
    const { rows } = await ferry.ferry.db.query<{ text: string }>('select concat(message, logs::text) as text from script_executions');
    for (const secret of Object.values(secrets)) {
      for (const form of [secret, encodeURIComponent(secret)]) {
        assert.ok(!api.seen().includes(form), `${form} appears in no answer`);
        assert.ok(!history.text.includes(form) && rows.every((row) => !row.text.includes(form)), `${form} is not in the execution log`);
      }
    }
    assert.ok(
      rows.some((row) => row.text.includes('password ******** token ********')),
      'the masked lines were logged',
    );
  });
  it("ends a user's browser session, grants and tokens when an administrator sets their password or deletes them", async () => {
    const config = await relyingParty(ferry);
    const password = 'before the reset 1';
    const signedInUser = async (email: string) => {
      const created = await api.post('/users', { email, password });
      assert.equal(created.status, 201, created.text);
      const browser = new Browser();
      const tokens = await signIn(ferry, config, browser, email, password);
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
      return { sub: created.body.sub as string, browser, refreshed };
    };
    const locksOut = async ({ browser, refreshed }: Awaited<ReturnType<typeof signedInUser>>, what: string) => {
      await assert.rejects(
        oidc.refreshTokenGrant(config, refreshed.refresh_token!),
        (error: { error?: string }) => error.error === 'invalid_grant',
        `${what}: the refresh token`,
      );
      assert.equal((await oidc.tokenIntrospection(config, refreshed.access_token)).active, false, `${what}: the access token`);
      const { page } = await beginAuthorization(ferry, config, browser);
      assert.match(page.url, /\/interaction\//, `${what}: the browser session no longer signs in by itself`);
      assert.match(page.html, /action="[^"]*\/login"/, `${what}: the login form`);
    };

    const reset = await signedInUser('reset@example.com');
    const bystander = await signedInUser('bystander@example.com');
    assert.equal((await api.put(`/users/${encodeURIComponent(reset.sub)}/password`, { password: 'after the reset 2' })).status, 204);
    await locksOut(reset, 'password reset');
    assert.ok((await oidc.refreshTokenGrant(config, bystander.refreshed.refresh_token!)).access_token, "another user's tokens still work");

    const deleted = await signedInUser('deleted@example.com');
    assert.equal((await api.delete(`/users/${encodeURIComponent(deleted.sub)}`)).status, 204);
    await locksOut(deleted, 'deletion');
  });
});

describe('admin API without an admin token', () => {
  it('is off outside the demo, and in the demo uses a generated token kept across restarts', async () => {
    const off = await startFerry();
    try {
      const answer = await adminClient(off).get('/users');
      assert.equal(answer.status, 404);
      assert.deepEqual(answer.body, { error: 'admin_api_disabled', message: 'The admin API is off: set adminToken.' });
      assert.equal((await adminClient(off, null).get('/openapi.json')).status, 404);
      assert.equal((await fetch(`${off.issuer}/console/login`)).status, 404);
    } finally {
      await off.stop();
      removeDataDir(off.dataDir);
    }

    let demo = await startFerry({ demo: true });
    try {
      assert.equal((await adminClient(demo, null).get('/users')).status, 401, 'the demo has an admin API');
      const token = await createKeyQueries(demo.ferry.db).getSetting<string>('admin_token');
      assert.ok(token && token.length >= 32);
      assert.equal((await adminClient(demo, token).get('/connection')).status, 200);
      demo = await demo.restart();
      assert.equal(await createKeyQueries(demo.ferry.db).getSetting<string>('admin_token'), token);
      assert.equal((await adminClient(demo, token).get('/connection')).status, 200);
    } finally {
      await demo.stop();
      removeDataDir(demo.dataDir);
    }
  });
});
