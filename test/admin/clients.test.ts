import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { CLIENT_CACHE_MS, secretSha256 } from '../../src/oidc/stored-clients.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { TEST_CLIENT, freePort, removeDataDir, startFerry, type TestFerry, statementsOf } from '../helpers/ferry.ts';
import { completeLogin, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const PASSWORD = 'a password for the client tests';
const EMAIL = 'rp-user@example.com';

/** An openid-client relying party for `client`, discovered on A, every back-channel call sent to `to`. */
async function relyingPartyAt(issuer: string, to: TestFerry, clientId: string, secret: string): Promise<oidc.Configuration> {
  const metadata = (await (await fetch(`${to.url}/.well-known/openid-configuration`)).json()) as oidc.ServerMetadata;
  const config = new oidc.Configuration(metadata, clientId, {}, oidc.ClientSecretBasic(secret));
  oidc.allowInsecureRequests(config);
  config[oidc.customFetch] = (url, options) => fetch(url.replace(issuer, to.url), options as RequestInit);
  return config;
}

/**
 * What the token endpoint says about a client and secret, without a sign-in: a refresh token that
 * does not exist is invalid_grant for a client that authenticates, invalid_client for one that does not.
 */
async function tokenEndpointSays(ferry: TestFerry, clientId: string, secret: string, inBody = false): Promise<string> {
  const grant = { grant_type: 'refresh_token', refresh_token: 'no-such-token' };
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  const answer = await fetch(`${ferry.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(inBody ? {} : { authorization: basic }) },
    body: new URLSearchParams(inBody ? { ...grant, client_id: clientId, client_secret: secret } : grant),
  });
  return ((await answer.json()) as { error: string }).error;
}

/** The error an authorization request for `clientId` starts with at `ferry` (undefined: the login page). */
async function authorizationSays(ferry: TestFerry, clientId: string, redirectUri: string): Promise<string | undefined> {
  const url = new URL(`${ferry.url}/auth`);
  for (const [key, value] of Object.entries({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }))
    url.searchParams.set(key, value);
  const answer = await fetch(url, { redirect: 'manual' });
  const location = answer.headers.get('location') ?? '';
  if (answer.status === 303 && location.includes('/interaction/')) return undefined;
  const html = await answer.text();
  return /<code>([^<]+)<\/code>/.exec(html)?.[1] ?? new URL(location, ferry.url).searchParams.get('error') ?? `status ${answer.status}`;
}

describe('relying parties kept in Ferry, on two instances of one PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let a: TestFerry;
  let b: TestFerry;
  const logs = { a: [] as string[], b: [] as string[] };
  let api: ReturnType<typeof adminClient>;
  let redirectUri: string;
  /** Every secret an answer carried, to look for everywhere else. */
  const secrets: string[] = [];

  before(async () => {
    await postgresReachable();
    database = await createPostgresDatabase();
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    redirectUri = `${issuer}/app-callback`;
    const shared = { databaseUrl: database.url, issuer, adminToken: ADMIN_TOKEN };
    a = await startFerry(shared, { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-a-')) }, { lines: logs.a });
    b = await startFerry(shared, undefined, { lines: logs.b });
    api = adminClient(a);
    assert.equal((await api.post('/users', { email: EMAIL, password: PASSWORD })).status, 201);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await database?.drop();
    for (const ferry of [a, b]) if (ferry) removeDataDir(ferry.dataDir);
  });

  const create = async (metadata: Record<string, unknown>) => {
    const answer = await api.post('/clients', { redirect_uris: [redirectUri], ...metadata });
    assert.equal(answer.status, 201, answer.text);
    if (answer.body.clientSecret) secrets.push(answer.body.clientSecret);
    return answer.body as { client: { clientId: string }; clientSecret: string };
  };

  /** How long each change made through A took to reach B (ms). */
  const lags: number[] = [];
  /**
   * A change made through A's admin API counts on A at once (it drops its own cache) and on B
   * within CLIENT_CACHE_MS (B keeps what it read that long): asked of B every 50 ms for 5 s.
   */
  /** The longest a single probe of B took: on a loaded machine a whole sign-in can take a second or more. */
  let longestProbe = 0;
  const onBoth = async (probe: (ferry: TestFerry) => Promise<unknown>, expected: unknown, what: string) => {
    assert.equal(await probe(a), expected, `${what} on A at once`);
    const started = performance.now();
    const probeB = async () => {
      const at = performance.now();
      const seen = await probe(b);
      longestProbe = Math.max(longestProbe, performance.now() - at);
      return { seen, at };
    };
    let last = await probeB();
    while (last.seen !== expected && performance.now() - started < 5000 + longestProbe) {
      await sleep(50);
      last = await probeB();
    }
    assert.equal(last.seen, expected, `${what} on B within 5 s`);
    // When the probe that saw the change started: the change was visible from then on.
    lags.push(last.at - started);
  };

  /** A whole sign-in: authorization through A's pages, the code exchanged at `tokensAt`. */
  const signInWith = async (clientId: string, secret: string, tokensAt: TestFerry) => {
    const config = await relyingPartyAt(a.issuer, tokensAt, clientId, secret);
    const target = { ...a, redirectUri };
    return signIn(target, config, new Browser(), EMAIL, PASSWORD, { scope: 'openid email' });
  };

  it('uses a client created through the API at once, on both instances, for a whole sign-in', async () => {
    const { client, clientSecret } = await create({ client_name: 'Inventory', skip_consent: true });
    assert.equal(clientSecret.length, 43, '256 bits in base64url');
    assert.equal(Buffer.from(clientSecret, 'base64url').length, 32);
    const viaA = await signInWith(client.clientId, clientSecret, a);
    assert.equal(viaA.claims()?.email, EMAIL);
    const viaB = await signInWith(client.clientId, clientSecret, b);
    assert.equal(viaB.claims()?.email, EMAIL);
    assert.equal(await tokenEndpointSays(b, client.clientId, clientSecret), 'invalid_grant', 'B knows the client and its secret');

    // The authorization itself can start on B too (the browser sent there, as a balancer might).
    const browser = new Browser();
    const config = await relyingPartyAt(a.issuer, b, client.clientId, clientSecret);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    const onB = await browser.get(url.href.replace(a.issuer, b.url), redirectUri);
    assert.ok(onB.url.startsWith(`${b.url}/interaction/`), onB.url);
    const callback = await completeLogin({ ...a, redirectUri }, browser, onB, EMAIL, PASSWORD);
    assert.ok((await oidc.authorizationCodeGrant(config, new URL(callback.url), { pkceCodeVerifier: verifier })).id_token);

    const listed = await api.get('/clients');
    assert.equal(listed.status, 200);
    const mine = listed.body.clients.find((c: { clientId: string }) => c.clientId === client.clientId);
    assert.deepEqual([mine.source, mine.disabled, mine.hasSecret, mine.metadata.client_name], ['store', false, true, 'Inventory']);
    assert.equal((await api.get(`/clients/${client.clientId}`)).body.metadata.skip_consent, true);
  });

  it('reads a stored client once for a whole sign-in on one instance, not in each request', async () => {
    const { client, clientSecret } = await create({ skip_consent: true });
    const sent = await statementsOf(a, () => signInWith(client.clientId, clientSecret, a));
    const reads = sent.filter((sql) => /from clients where client_id/.test(sql)).length;
    process.stderr.write(`store queries of a sign-in with a stored client: ${sent.length}, of which client reads ${reads}\n`);
    assert.equal(reads, 1, 'one read, kept for the rest of the sign-in');
  });

  it('answers 400 naming the field for metadata oidc-provider refuses, and stores nothing', async () => {
    const before = (await api.get('/clients')).body.clients.length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ redirect_uris: ['not a url'] }, 'redirect_uris'],
      [{ token_endpoint_auth_method: 'bogus' }, 'token_endpoint_auth_method'],
      [{ grant_types: ['authorization_code', 'password'] }, 'grant_types'],
      [{ redirect_uris: [] }, 'redirect_uris'],
      [{ skip_consent: 'yes' }, 'skip_consent'],
      [{ client_secret: 'mine' }, 'client_secret'],
      [{ client_id: 'spaces are not ids' }, 'client_id'],
      // Ferry keeps only a hash of the secret: nothing that would use it as a key.
      [{ token_endpoint_auth_method: 'client_secret_jwt' }, 'token_endpoint_auth_method'],
      [{ id_token_signed_response_alg: 'HS256' }, 'id_token_signed_response_alg'],
      [{ userinfo_encrypted_response_alg: 'dir' }, 'userinfo_encrypted_response_alg'],
    ];
    for (const [metadata, field] of cases) {
      const answer = await api.post('/clients', { redirect_uris: [redirectUri], ...metadata });
      assert.equal(answer.status, 400, `${JSON.stringify(metadata)}: ${answer.text}`);
      assert.ok(
        answer.body.details.some((detail: { path: string }) => detail.path === field),
        `${JSON.stringify(metadata)} names ${field}: ${answer.text}`,
      );
      assert.match(answer.body.message, new RegExp(field));
    }
    assert.equal((await api.get('/clients')).body.clients.length, before);
  });

  it('rotates a secret: the old one fails and the new one works, at once on A and within seconds on B', async () => {
    const { client, clientSecret: old } = await create({ skip_consent: true });
    for (const ferry of [a, b]) assert.equal(await tokenEndpointSays(ferry, client.clientId, old), 'invalid_grant', 'in use before');
    const rotated = await api.post(`/clients/${client.clientId}/secret`);
    assert.equal(rotated.status, 200, rotated.text);
    const fresh = rotated.body.clientSecret as string;
    secrets.push(fresh);
    assert.notEqual(fresh, old);
    await onBoth((ferry) => tokenEndpointSays(ferry, client.clientId, old), 'invalid_client', 'the old secret is refused');
    await onBoth((ferry) => tokenEndpointSays(ferry, client.clientId, fresh), 'invalid_grant', 'the new secret authenticates');
    await assert.rejects(signInWith(client.clientId, old, b), (error: Error) => JSON.stringify(error.cause).includes('invalid_client'));
    assert.ok((await signInWith(client.clientId, fresh, b)).id_token);
  });

  it('edits a client: the new redirect URIs count at once on A and within seconds on B', async () => {
    const { client } = await create({ skip_consent: true });
    const other = `${a.issuer}/other-callback`;
    for (const ferry of [a, b]) assert.equal(await authorizationSays(ferry, client.clientId, redirectUri), undefined, 'in use before');
    const edited = await api.put(`/clients/${client.clientId}`, { redirect_uris: [other], client_name: 'Renamed', skip_consent: true });
    assert.equal(edited.status, 200, edited.text);
    assert.equal(edited.body.clientSecret, undefined, 'the secret stays and is not shown');
    assert.equal(edited.body.client.metadata.client_name, 'Renamed');
    await onBoth((ferry) => authorizationSays(ferry, client.clientId, redirectUri), 'invalid_redirect_uri', 'the old redirect URI is refused');
    await onBoth((ferry) => authorizationSays(ferry, client.clientId, other), undefined, 'the new redirect URI is taken');
    const refused = await api.put(`/clients/${client.clientId}`, { redirect_uris: ['ftp://x'] });
    assert.equal(refused.status, 400);
    assert.equal((await api.get(`/clients/${client.clientId}`)).body.metadata.client_name, 'Renamed', 'a refused edit changes nothing');
  });

  it('disables, enables and deletes a client, effective at once on A and within seconds on B', async () => {
    const { client, clientSecret } = await create({ skip_consent: true });
    for (const ferry of [a, b]) assert.equal(await tokenEndpointSays(ferry, client.clientId, clientSecret), 'invalid_grant', 'in use before');
    const issued = await signInWith(client.clientId, clientSecret, b);
    const userinfoSays = async (ferry: TestFerry) => {
      const answer = await fetch(`${ferry.url}/me`, { headers: { authorization: `Bearer ${issued.access_token}` } });
      return answer.status === 200 ? 'ok' : /error="([a-z_]+)"/.exec(answer.headers.get('www-authenticate') ?? '')?.[1];
    };
    for (const ferry of [a, b]) assert.equal(await userinfoSays(ferry), 'ok');
    const disabled = await api.post(`/clients/${client.clientId}/disable`);
    assert.deepEqual([disabled.status, disabled.body.disabled], [200, true]);
    await onBoth(userinfoSays, 'invalid_token', 'disabled: its access tokens no longer read userinfo');
    await onBoth((ferry) => tokenEndpointSays(ferry, client.clientId, clientSecret), 'invalid_client', 'disabled: no token endpoint');
    await onBoth((ferry) => authorizationSays(ferry, client.clientId, redirectUri), 'invalid_client', 'disabled: no authorization');
    assert.equal((await api.post(`/clients/${client.clientId}/enable`)).body.disabled, false);
    await onBoth((ferry) => authorizationSays(ferry, client.clientId, redirectUri), undefined, 'enabled again');
    assert.ok((await signInWith(client.clientId, clientSecret, b)).id_token);

    assert.equal((await api.delete(`/clients/${client.clientId}`)).status, 204);
    await onBoth((ferry) => tokenEndpointSays(ferry, client.clientId, clientSecret), 'invalid_client', 'deleted: no token endpoint');
    await onBoth((ferry) => authorizationSays(ferry, client.clientId, redirectUri), 'invalid_client', 'deleted: no authorization');
    assert.equal((await api.get(`/clients/${client.clientId}`)).status, 404);
    assert.equal((await api.delete(`/clients/${client.clientId}`)).status, 404);
  });

  it('lists the configured clients as read-only: changing them answers 409, and they still work', async () => {
    const listed = (await api.get('/clients')).body.clients.find((c: { clientId: string }) => c.clientId === TEST_CLIENT.client_id);
    assert.deepEqual([listed.source, listed.hasSecret, listed.metadata.client_secret], ['config', true, undefined]);
    for (const answer of [
      await api.put(`/clients/${TEST_CLIENT.client_id}`, { redirect_uris: [redirectUri] }),
      await api.post(`/clients/${TEST_CLIENT.client_id}/secret`),
      await api.post(`/clients/${TEST_CLIENT.client_id}/disable`),
      await api.delete(`/clients/${TEST_CLIENT.client_id}`),
    ]) {
      assert.equal(answer.status, 409, answer.text);
      assert.equal(answer.body.error, 'client_from_configuration');
      assert.match(answer.body.message, /configuration file/);
    }
    assert.equal((await api.post('/clients', { client_id: TEST_CLIENT.client_id, redirect_uris: [redirectUri] })).status, 409);
    assert.equal(await tokenEndpointSays(b, TEST_CLIENT.client_id, TEST_CLIENT.client_secret), 'invalid_grant');
  });

  it('creates a public client without a secret, and refuses to rotate what it does not have', async () => {
    const { client, clientSecret } = await create({ client_id: 'spa.public', token_endpoint_auth_method: 'none' });
    assert.equal(client.clientId, 'spa.public');
    assert.equal(clientSecret, undefined);
    assert.equal((await api.get('/clients/spa.public')).body.hasSecret, false);
    assert.equal((await api.post('/clients/spa.public/secret')).status, 409);
    assert.equal((await api.post('/clients', { client_id: 'spa.public', redirect_uris: [redirectUri] })).status, 409, 'ids are unique');
    assert.equal(await authorizationSays(b, 'spa.public', redirectUri), undefined);
  });

  it('manages applications in the console: the secret shown once, edits, rotation, disable, delete; configured ones read-only', async () => {
    const browser = new Browser();
    const login = await browser.get(`${a.url}/console/login`);
    await browser.submit(login, '/console/login', { token: ADMIN_TOKEN });
    const list = await browser.get(`${a.url}/console/clients`);
    assert.match(list.html, /aria-current="page">Applications/);
    assert.match(list.html, new RegExp(`${TEST_CLIENT.client_id}[\\s\\S]*configuration file \\(read-only\\)`));

    const refused = await browser.submit(list, '/console/clients', { client_id: 'console-app', redirect_uris: 'not a url', client_name: 'Console app' });
    assert.equal(refused.status, 400);
    assert.match(refused.html, /redirect_uris: must only contain valid uris/);
    assert.match(refused.html, /value="Console app"/, 'the form keeps what was typed');

    const created = await browser.submit(list, '/console/clients', {
      client_id: 'console-app',
      client_name: 'Console app',
      redirect_uris: `${redirectUri}\n`,
      token_endpoint_auth_method: 'client_secret_basic',
      skip_consent: 'on',
    });
    assert.equal(created.status, 201, created.html.slice(0, 500));
    const secret = /<code class="secret">([^<]+)<\/code>/.exec(created.html)?.[1];
    assert.ok(secret && secret.length === 43, 'the secret is shown once');
    secrets.push(secret);
    assert.ok((await signInWith('console-app', secret, b)).id_token, 'used at once on B');
    const shown = await browser.get(`${a.url}/console/clients/console-app`);
    assert.ok(!shown.html.includes(secret), 'not shown again');
    assert.ok(!(await browser.get(`${a.url}/console/clients`)).html.includes(secret));

    const other = `${a.issuer}/console-callback`;
    const saved = await browser.submit(shown, '/console/clients/console-app', { client_name: 'Renamed app', redirect_uris: other, skip_consent: 'on' });
    assert.match(saved.html, /The application was saved/);
    assert.match(saved.html, /value="Renamed app"/);
    await onBoth((ferry) => authorizationSays(ferry, 'console-app', other), undefined, 'the edit');
    await onBoth((ferry) => authorizationSays(ferry, 'console-app', redirectUri), 'invalid_redirect_uri', 'the edit');

    const rotated = await browser.submit(saved, '/console/clients/console-app/secret');
    const fresh = /<code class="secret">([^<]+)<\/code>/.exec(rotated.html)?.[1];
    assert.ok(fresh && fresh !== secret);
    secrets.push(fresh);
    await onBoth((ferry) => tokenEndpointSays(ferry, 'console-app', secret), 'invalid_client', 'the rotation');
    await onBoth((ferry) => tokenEndpointSays(ferry, 'console-app', fresh), 'invalid_grant', 'the rotation');

    const disabled = await browser.submit(rotated, '/console/clients/console-app/disable');
    assert.match(disabled.html, /id="client-status">disabled/);
    await onBoth((ferry) => tokenEndpointSays(ferry, 'console-app', fresh), 'invalid_client', 'disabled');
    const enabled = await browser.submit(disabled, '/console/clients/console-app/enable');
    assert.match(enabled.html, /id="client-status">enabled/);
    const deleted = await browser.submit(enabled, '/console/clients/console-app/delete');
    assert.match(deleted.html, /The application was deleted/);
    await onBoth((ferry) => authorizationSays(ferry, 'console-app', other), 'invalid_client', 'deleted');

    const configured = await browser.get(`${a.url}/console/clients/${TEST_CLIENT.client_id}`);
    assert.match(configured.html, /id="read-only"/);
    assert.ok(!configured.html.includes(TEST_CLIENT.client_secret));
    assert.ok(!configured.html.includes('/secret"'), 'no rotate button');
    const forced = await browser.request(`${a.url}/console/clients/${TEST_CLIENT.client_id}/disable`, {
      form: { csrf: /name="csrf" value="([^"]+)"/.exec(configured.html)![1]! },
    });
    assert.equal(forced.status, 409);
    assert.match(forced.html, /configuration file/);
  });

  it(`brings every change to the other instance within CLIENT_CACHE_MS (${CLIENT_CACHE_MS} ms)`, () => {
    assert.ok(lags.length >= 10, `${lags.length} changes measured`);
    const worst = Math.max(...lags);
    process.stderr.write(`changes reached B after ${lags.map((ms) => Math.round(ms)).join(', ')} ms (worst ${Math.round(worst)})\n`);
    // A probe that started just before B's cached client expired sees the old one: the next starts one probe later.
    assert.ok(worst <= CLIENT_CACHE_MS + 1000 + longestProbe, `worst ${Math.round(worst)} ms (longest probe ${Math.round(longestProbe)} ms)`);
  });

  it('keeps only a SHA-256 of each secret: the database holds none that works', async () => {
    const { client, clientSecret } = await create({ client_id: 'hashed-app', token_endpoint_auth_method: 'client_secret_post' });
    const { rows } = await a.ferry.db.query<Record<string, unknown>>('select * from clients');
    const table = JSON.stringify(rows);
    for (const secret of secrets) assert.ok(!table.includes(secret), 'no secret in the table');
    const stored = rows.find((row) => row.client_id === 'hashed-app')!;
    assert.equal(stored.client_secret_sha256, secretSha256(clientSecret));
    assert.equal(await tokenEndpointSays(b, client.clientId, clientSecret, true), 'invalid_grant', 'client_secret_post works');
    for (const taken of [secretSha256(clientSecret), `ferry-sha256:${secretSha256(clientSecret)}`]) {
      assert.equal(await tokenEndpointSays(b, client.clientId, taken, true), 'invalid_client', 'what the table holds does not authenticate');
    }
  });

  it('never shows a secret in a listing, a get, or either instance log', async () => {
    assert.ok(secrets.length >= 3);
    const reads = [
      await api.get('/clients'),
      ...(await Promise.all(((await api.get('/clients')).body.clients as { clientId: string }[]).map((c) => api.get(`/clients/${c.clientId}`)))),
    ];
    const text = reads.map((answer) => answer.text).join('\n');
    for (const secret of [...secrets, TEST_CLIENT.client_secret]) {
      assert.ok(!text.includes(secret) && !text.includes(secretSha256(secret)), 'neither it nor its hash in a listing or get');
      assert.ok(!logs.a.join('\n').includes(secret) && !logs.b.join('\n').includes(secret), 'not in the logs');
    }
    assert.ok(!/"client_secret(_sha256)?"/.test(text));
    assert.ok(logs.a.length > 0, 'the log was collected');
  });
});
