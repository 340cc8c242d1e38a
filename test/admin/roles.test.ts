import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser, findForms, type Page } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { runCli } from './run-cli.ts';

const ROLES = ['owner', 'operator', 'script-editor', 'viewer'] as const;
type Role = (typeof ROLES)[number];
type Operation = { tags: string[]; 'x-ferry-roles'?: string[]; security?: unknown[] };

/**
 * The policy as the issue states it, written out apart from src/admin/roles.ts: owner everything;
 * operator users (with their sessions) and clients; script editor the connection and scripts;
 * viewer every GET; admin keys the owner's alone.
 */
function expectedRoles(tag: string, method: string): Role[] {
  if (tag === 'admin-keys') return ['owner'];
  if (method === 'get') return [...ROLES];
  if (tag === 'users' || tag === 'clients') return ['owner', 'operator'];
  if (tag === 'connection' || tag === 'scripts') return ['owner', 'script-editor'];
  return ['owner'];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** The POST forms on a console page other than Sign out. */
const editForms = (page: Page) => findForms(page).filter((form) => form.method === 'POST' && !form.action.endsWith('/console/logout'));

describe('named admins and roles', () => {
  let ferry: TestFerry;
  const keys = {} as Record<Role, string>;
  // Each role calls from its own address (trustProxy), so each has its own rate-limit bucket.
  const as = (role: Role | 'token', key = role === 'token' ? ADMIN_TOKEN : keys[role as Role]) => {
    const client = adminClient(ferry, key);
    const address = { 'x-forwarded-for': `10.0.0.${role === 'token' ? 9 : ROLES.indexOf(role as Role) + 1}` };
    return { ...client, call: (method: string, path: string, body?: unknown) => client.call(method, path, body, address) };
  };

  before(async () => {
    ferry = await startFerry({ adminToken: ADMIN_TOKEN, trustProxy: true });
    const owner = as('token');
    for (const role of ROLES) {
      const created = await owner.call('POST', '/admin-keys', { name: `${role} person`, role });
      assert.equal(created.status, 201, created.text);
      assert.match(created.body.key, /^ferry_ak_[A-Za-z0-9_-]{43}$/);
      keys[role] = created.body.key;
    }
  });

  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('keeps only the SHA-256 of each key, and never shows a key again', async () => {
    const { rows } = await ferry.ferry.db.query<Record<string, unknown>>('select * from admin_keys order by name');
    assert.equal(rows.length, ROLES.length);
    const stored = JSON.stringify(rows);
    for (const role of ROLES) {
      assert.ok(!stored.includes(keys[role]), `the ${role} key is not in the table`);
      assert.ok(
        rows.some((row) => row.key_sha256 === sha256(keys[role]) && row.role === role),
        `the ${role} key's hash is`,
      );
    }
    const owner = as('owner');
    const list = await owner.call('GET', '/admin-keys');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((k: { name: string }) => k.name).sort(), ROLES.map((role) => `${role} person`).sort());
    assert.deepEqual(Object.keys(list.body[0]).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'role']);
    assert.ok(list.body.find((k: { role: string }) => k.role === 'owner').lastUsedAt, 'the owner key was just used');
    for (const role of ROLES) assert.ok(!owner.seen().includes(keys[role]), `the ${role} key is not in any answer`);
  });

  it('allows each route exactly the roles its OpenAPI operation names, and those are the policy', async () => {
    const document = (await as('viewer').call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => !operation.security)
        .map(([method, operation]) => ({ path, method, operation })),
    );
    assert.ok(operations.length > 40, `${operations.length} operations`);
    for (const { path, method, operation } of operations) {
      assert.deepEqual(operation['x-ferry-roles'], expectedRoles(operation.tags[0]!, method), `${method} ${path}`);
    }
    assert.ok(
      operations.some((o) => o.path === '/api/v1/admin-keys' && o.method === 'post'),
      'the admin keys are in the document',
    );

    // Harmless calls: an unknown subject, client or key, and an empty body (400 or 404 means allowed).
    const answers = await Promise.all(
      ROLES.map(async (role) => {
        const client = as(role);
        return Promise.all(
          operations.map(async ({ path, method, operation }) => {
            const url = path.replace('/api/v1', '').replace(/\{[^}]+\}/g, 'nobody');
            const answer = await client.call(method.toUpperCase(), url, method === 'get' || method === 'delete' ? undefined : {});
            return { role, path, method, allowed: operation['x-ferry-roles']!.includes(role), answer };
          }),
        );
      }),
    );
    for (const { role, path, method, allowed, answer } of answers.flat()) {
      const what = `${role}: ${method.toUpperCase()} ${path} answered ${answer.status} ${answer.text.slice(0, 200)}`;
      assert.ok(![401, 429].includes(answer.status), what);
      if (allowed) assert.notEqual(answer.status, 403, what);
      else {
        assert.equal(answer.status, 403, what);
        assert.equal(answer.body.error, 'forbidden', what);
        assert.match(answer.body.message, new RegExp(`The ${role} role may not do this; it needs .*owner`), what);
      }
    }
  });

  it('refuses a revoked key at once, by id or by name', async () => {
    const owner = as('token');
    for (const by of ['id', 'name'] as const) {
      const created = await owner.call('POST', '/admin-keys', { name: `short-lived ${by}`, role: 'viewer' });
      assert.equal(created.status, 201);
      assert.equal((await as('viewer', created.body.key).call('GET', '/users')).status, 200);
      assert.equal((await owner.call('DELETE', `/admin-keys/${encodeURIComponent(created.body[by])}`)).status, 204);
      const refused = await as('viewer', created.body.key).call('GET', '/users');
      assert.equal(refused.status, 401, `revoked by ${by}`);
    }
    assert.equal((await owner.call('DELETE', '/admin-keys/short-lived%20id')).status, 404);
    assert.equal((await owner.call('POST', '/admin-keys', { name: 'owner person', role: 'viewer' })).status, 409);
  });

  it('signs a viewer into the console without edit forms, and refuses their POSTs', async () => {
    const created = await as('token').call('POST', '/users', { email: 'ada@example.com', name: 'Ada', password: 'analytical engine' });
    assert.equal(created.status, 201, created.text);
    const userPage = `${ferry.issuer}/console/users/${encodeURIComponent(created.body.sub)}`;

    const viewer = new Browser({ 'x-forwarded-for': '10.0.1.4' });
    const signedIn = await viewer.submit(await viewer.get(`${ferry.issuer}/console/login`), '/console/login', { token: keys.viewer });
    assert.equal(signedIn.status, 200);
    assert.match(signedIn.html, /viewer person \(viewer\)/);
    assert.doesNotMatch(signedIn.html, /href="\/console\/admin-keys"/, 'no Admins link for a viewer');
    for (const path of [
      '/console/connection',
      '/console/scripts/login',
      '/console/users',
      userPage.slice(ferry.issuer.length),
      '/console/clients',
      '/console/migration',
    ]) {
      const page = await viewer.get(`${ferry.issuer}${path}`);
      assert.equal(page.status, 200, path);
      assert.deepEqual(editForms(page), [], `${path} has no edit form for a viewer`);
      assert.ok(
        findForms(page).some((form) => form.action.endsWith('/console/logout')),
        `${path} keeps Sign out`,
      );
    }
    // What the forms showed is still there to read, in disabled fields: the profile, the script.
    assert.match((await viewer.get(userPage)).html, /<fieldset class="read-only-form" disabled>[\s\S]*?value="ada@example.com"/);
    assert.match((await viewer.get(`${ferry.issuer}/console/scripts/login`)).html, /<fieldset class="read-only-form" disabled>[\s\S]*?<textarea/);
    const csrf = findForms(await viewer.get(userPage)).find((form) => form.action.endsWith('/console/logout'))!.fields.csrf!;
    const refused = await viewer.request(`${userPage}/block`, { form: { csrf } });
    assert.equal(refused.status, 403);
    assert.match(refused.html, /The viewer role may not do this; it needs one of the roles owner, operator/);
    assert.equal((await viewer.request(`${ferry.issuer}/console/admin-keys`)).status, 403);

    // An operator gets the user's forms, and not the connection's.
    const operator = new Browser({ 'x-forwarded-for': '10.0.1.2' });
    await operator.submit(await operator.get(`${ferry.issuer}/console/login`), '/console/login', { token: keys.operator });
    assert.ok(editForms(await operator.get(userPage)).some((form) => form.action.endsWith('/block')));
    assert.deepEqual(editForms(await operator.get(`${ferry.issuer}/console/connection`)), []);
  });

  it('lets the owner create and revoke keys in the console; the key is shown once', async () => {
    const owner = new Browser({ 'x-forwarded-for': '10.0.1.1' });
    await owner.submit(await owner.get(`${ferry.issuer}/console/login`), '/console/login', { token: keys.owner });
    const page = await owner.get(`${ferry.issuer}/console/admin-keys`);
    assert.match(page.html, /script-editor person/);
    const form = findForms(page).find((candidate) => candidate.action === '/console/admin-keys')!;
    const created = await owner.request(`${ferry.issuer}${form.action}`, { form: { ...form.fields, name: 'console made', role: 'script-editor' } });
    assert.equal(created.status, 201);
    const key = /<code class="secret">([^<]+)<\/code>/.exec(created.html)?.[1];
    assert.ok(key, 'the new key is shown');
    assert.equal((await as('script-editor', key).call('GET', '/scripts')).status, 200);
    const again = await owner.get(`${ferry.issuer}/console/admin-keys`);
    assert.ok(!again.html.includes(key), 'not shown again');

    const id = /\/console\/admin-keys\/([0-9a-f]+)\/revoke" class="inline" data-confirm="Revoke the key of console made/.exec(again.html)?.[1];
    assert.ok(id);
    const revoked = await owner.submit(again, `/console/admin-keys/${id}/revoke`);
    assert.match(revoked.html, /The admin key was revoked/);
    assert.equal((await as('script-editor', key).call('GET', '/scripts')).status, 401);
  });

  it('creates, lists and revokes keys with the CLI through the admin API', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ferry-admin-keys-'));
    const env = { FERRY_URL: ferry.issuer, FERRY_ADMIN_TOKEN: keys.owner };
    const created = await runCli(['admin-keys', 'create', 'ci bot', '--role', 'script-editor', '--json'], { cwd, env });
    assert.equal(created.code, 0, created.stderr);
    const { key, role, name } = JSON.parse(created.stdout) as { key: string; role: string; name: string };
    assert.deepEqual([name, role], ['ci bot', 'script-editor']);
    assert.equal((await as('script-editor', key).call('GET', '/scripts')).status, 200);
    assert.equal((await as('script-editor', key).call('DELETE', '/users/nobody')).status, 403);

    const listed = await runCli(['admin-keys', 'list'], { cwd, env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /ci bot {2}script-editor {2}created \S+ {2}last used \S+/);
    assert.ok(!listed.stdout.includes(key), 'the list never shows a key');

    const byViewer = await runCli(['admin-keys', 'list'], { cwd, env: { ...env, FERRY_ADMIN_TOKEN: keys.viewer } });
    assert.equal(byViewer.code, 1);
    assert.match(byViewer.stderr, /answered 403: The viewer role may not do this; it needs the role owner/);

    const revoked = await runCli(['admin-keys', 'revoke', 'ci bot'], { cwd, env });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await as('script-editor', key).call('GET', '/scripts')).status, 401);
    removeDataDir(cwd);
  });
});
