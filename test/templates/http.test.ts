import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import { templateRunner } from './run.ts';
import { checkTemplateBehaviour, SEED_USERS } from './scenario.ts';

const API_TOKEN = 'test-api-token-0123456789';

interface StoredUser {
  id: number;
  email: string | null;
  phone: string | null;
  username: string | null;
  name: string | null;
  nickname: string | null;
  photo: string | null;
  token: string | null;
  emailVerified: boolean;
  phoneVerified: boolean;
  loginsCount: number;
  lastIp: string | null;
  gender: string | null;
  address: string | null;
  company: string | null;
  birthdate: string | null;
  website: string | null;
  updatedAt: string;
  hash: string | null;
}

const PROFILE_KEYS = [
  'email',
  'phone',
  'username',
  'name',
  'nickname',
  'photo',
  'token',
  'emailVerified',
  'phoneVerified',
  'gender',
  'address',
  'company',
  'birthdate',
  'website',
] as const;

/**
 * The user API of api.md over an in-memory table with bcrypt hashes. It is deliberately sloppy in
 * one way: every user it sends carries its `hash`, which the templates must not pass on.
 */
function createUserApi() {
  const users = new Map<number, StoredUser>();
  let nextId = 1;
  const requests: { method: string; path: string; authorization: string | undefined }[] = [];
  let failNext = false;

  const same = (a: string | null, b: unknown) => a !== null && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
  const find = (key: Record<string, unknown>) =>
    [...users.values()].find(
      (user) =>
        (key.id !== undefined && String(user.id) === key.id) ||
        same(user.email, key.email) ||
        same(user.username, key.username) ||
        (user.phone !== null && user.phone === key.phone),
    );
  const taken = (fields: Record<string, unknown>, except?: number) =>
    [...users.values()].some(
      (user) =>
        user.id !== except && (same(user.email, fields.email) || same(user.username, fields.username) || (user.phone !== null && user.phone === fields.phone)),
    );

  async function add(fields: Partial<StoredUser> & { password?: string | null }): Promise<StoredUser> {
    const user: StoredUser = {
      id: nextId++,
      email: null,
      phone: null,
      username: null,
      name: null,
      nickname: null,
      photo: null,
      token: null,
      emailVerified: false,
      phoneVerified: false,
      loginsCount: 0,
      lastIp: null,
      gender: null,
      address: null,
      company: null,
      birthdate: null,
      website: null,
      updatedAt: new Date().toISOString(),
      hash: null,
    };
    for (const key of [...PROFILE_KEYS, 'loginsCount'] as const) if (fields[key] !== undefined) (user as unknown as Record<string, unknown>)[key] = fields[key];
    if (fields.password) user.hash = await bcrypt.hash(fields.password, 10);
    users.set(user.id, user);
    return user;
  }

  async function handle(method: string, url: URL, body: Record<string, unknown>): Promise<[number, unknown?]> {
    const path = url.pathname;
    const byId = /^\/users\/([^/]+)(\/verify-password)?$/.exec(path);
    if (method === 'POST' && path === '/login') {
      const user = find({ email: body.email, username: body.username, phone: body.phone });
      if (!user) return [404, { message: 'no such user' }];
      const valid = typeof body.password === 'string' && user.hash !== null && (await bcrypt.compare(body.password, user.hash));
      return valid ? [200, user] : [403, { message: 'wrong password' }];
    }
    if (method === 'GET' && path === '/users/lookup') {
      const user = find(Object.fromEntries(url.searchParams));
      return user ? [200, user] : [404];
    }
    if (method === 'GET' && path === '/users/search') {
      const keyword = (url.searchParams.get('keyword') ?? '').toLowerCase();
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const found = [...users.values()].filter((user) =>
        [user.email, user.username, user.phone, user.name, user.nickname].some((value) => value?.toLowerCase().includes(keyword)),
      );
      return [200, found.slice(0, limit)];
    }
    if (method === 'GET' && path === '/users') {
      const page = Number(url.searchParams.get('page'));
      const limit = Number(url.searchParams.get('limit'));
      const all = [...users.values()];
      return [200, { totalCount: all.length, list: all.slice((page - 1) * limit, page * limit) }];
    }
    if (method === 'POST' && path === '/users') {
      // Hash first: the check and the insert below happen with no await between them, as a
      // unique index would make them atomic.
      const hash = typeof body.password === 'string' && body.password ? await bcrypt.hash(body.password, 10) : null;
      if (taken(body)) return [409, { message: 'taken' }];
      const user = await add({ ...(body as Partial<StoredUser>), password: null });
      user.hash = hash;
      return [201, user];
    }
    const user = byId ? users.get(Number(decodeURIComponent(byId[1]!))) : undefined;
    if (byId && !user) return [404];
    if (user && method === 'POST' && byId![2]) {
      return [200, { valid: typeof body.password === 'string' && user.hash !== null && (await bcrypt.compare(body.password, user.hash)) }];
    }
    if (user && method === 'PATCH' && !byId![2]) {
      if (taken(body, user.id)) return [409, { message: 'taken' }];
      for (const key of PROFILE_KEYS) if (body[key] !== undefined) (user as unknown as Record<string, unknown>)[key] = body[key];
      if (typeof body.password === 'string') user.hash = await bcrypt.hash(body.password, 10);
      user.updatedAt = new Date().toISOString();
      return [200, user];
    }
    if (user && method === 'DELETE' && !byId![2]) {
      users.delete(user.id);
      return [204];
    }
    return [405];
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      // The API lives under /api, as behind a shared gateway: the base URL has a path.
      const url = new URL((request.url ?? '/').replace(/^\/api(?=\/)/, ''), 'http://api.test');
      requests.push({ method: request.method ?? '', path: url.pathname, authorization: request.headers.authorization });
      let status: number;
      let payload: unknown;
      if (!request.url?.startsWith('/api/')) {
        [status, payload] = [404, { message: 'not under /api' }];
      } else if (failNext) {
        failNext = false;
        [status, payload] = [500, { message: 'database is on fire' }];
      } else if (request.headers.authorization !== `Bearer ${API_TOKEN}`) {
        [status, payload] = [401, { message: 'bad token' }];
      } else {
        const text = Buffer.concat(chunks).toString('utf8');
        [status, payload] = await handle(request.method ?? 'GET', url, text ? JSON.parse(text) : {});
      }
      response.writeHead(status, payload === undefined ? {} : { 'content-type': 'application/json' });
      response.end(payload === undefined ? undefined : JSON.stringify(payload));
    });
  });

  return {
    users,
    requests,
    add,
    failNextRequest() {
      failNext = true;
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('the HTTP templates run in the sandbox against a real user API', async (t) => {
  const api = createUserApi();
  for (const user of SEED_USERS) await api.add(user);
  const base = await api.listen();
  const scripts = templateRunner('http');
  t.after(async () => {
    scripts.close();
    await api.close();
  });

  await checkTemplateBehaviour(t, {
    run: scripts.run,
    uriEnv: { API_BASE_URL: base, API_TOKEN },
    // The same base URL with a trailing slash must join paths the same way.
    fieldsEnv: { API_BASE_URL: `${base}/`, API_TOKEN },
    storedHash: async (id) => api.users.get(Number(id))?.hash ?? '',
    missingId: '999999',
    updatedAtIsDate: false,
  });

  await t.test('every request carried the bearer token', () => {
    assert.ok(api.requests.length > 30);
    for (const request of api.requests) assert.equal(request.authorization, `Bearer ${API_TOKEN}`, `${request.method} ${request.path}`);
  });

  await t.test('a wrong API token is a failure, never "wrong password" or "no such user"', async () => {
    const env = { API_BASE_URL: base, API_TOKEN: 'wrong-token' };
    for (const outcome of [
      await scripts.run('login', [{ email: 'alice@example.com' }, 'alice-password', {}], env),
      await scripts.run('getUser', [{ email: 'alice@example.com' }, {}], env),
    ]) {
      assert.equal(outcome.ok, false);
      if (!outcome.ok) assert.equal(outcome.message, 'The user API answered 401: bad token');
    }
  });

  await t.test('a server error makes the script fail rather than answer', async () => {
    api.failNextRequest();
    const outcome = await scripts.run('getUser', [{ email: 'alice@example.com' }, {}], { API_BASE_URL: base, API_TOKEN });
    assert.equal(outcome.ok, false);
    if (!outcome.ok) assert.match(outcome.message, /status code 500/);
  });
});
