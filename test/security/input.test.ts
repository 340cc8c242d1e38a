import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, findForm, type Page } from '../helpers/browser.ts';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { beginAuthorization, relyingParty } from '../helpers/relying-party.ts';

const PASSWORD = 'a fine passphrase 7';

/** A GET with headers fetch will not send (Host), or an absolute request target. */
function rawGet(issuer: string, target: string, headers: Record<string, string>): Promise<{ status: number; location: string | undefined; body: string }> {
  const { hostname, port } = new URL(issuer);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What the attacker sent, each once into the sign-in and the registration forms. */
const BAD_VALUES: [string, string][] = [
  ['a NUL byte', 'victim\u0000@example.com'],
  ['a control character', 'victim\u0007@example.com'],
  ['a line break', 'victim@example.com\r\nX-Injected: 1'],
  ['an absurd length', `${'a'.repeat(5000)}@example.com`],
];

describe('invalid input is refused with a 400 before any database or script sees it', () => {
  let ferry: TestFerry;
  let config: oidc.Configuration;
  const logLines: string[] = [];
  /** What the server logged at error level or above, or with a stack, since the test began. */
  const errorsLogged = (from: number) => logLines.slice(from).filter((line) => /"level":(5|6)\d|"stack"/.test(line));

  before(async () => {
    ferry = await startFerry({ trustProxy: true, adminToken: ADMIN_TOKEN }, undefined, { lines: logLines });
    config = await relyingParty(ferry);
  });
  after(async () => {
    await ferry.stop();
    removeDataDir(ferry.dataDir);
  });

  const throttleRows = async () => (await ferry.ferry.db.query('select key from login_throttle')).rows;
  const loginPage = async (): Promise<{ browser: Browser; page: Page }> => {
    const browser = new Browser({ 'x-forwarded-for': '198.51.100.5' });
    return { browser, page: (await beginAuthorization(ferry, config, browser)).page };
  };
  const registerPage = async () => {
    const { browser, page } = await loginPage();
    return { browser, page: await browser.get(new URL(`${new URL(page.url).pathname}/register`, page.url).href) };
  };

  it('answers 400 naming the field for a bad sign-in identifier, before the throttle counts it, and logs no error', async () => {
    const logged = logLines.length;
    for (const [what, identifier] of BAD_VALUES) {
      const { browser, page } = await loginPage();
      const answer = await browser.submit(page, '/login', { identifier, password: PASSWORD });
      assert.equal(answer.status, 400, what);
      assert.match(answer.html, /The field &#34;identifier&#34; |The field "identifier" /, what);
    }
    assert.deepEqual(await throttleRows(), [], 'no attempt reached the throttle');
    assert.deepEqual(errorsLogged(logged), [], 'no error and no stack in the log');
  });

  it('answers 400 for a password with a NUL byte and for bytes that are not UTF-8', async () => {
    const { browser, page } = await loginPage();
    const answer = await browser.submit(page, '/login', { identifier: 'victim@example.com', password: `${PASSWORD}\u0000` });
    assert.equal(answer.status, 400);
    const form = findForm(page, '/login');
    const raw = `csrf=${encodeURIComponent(form.fields.csrf!)}&identifier=victim%FF%FE%40example.com&password=x`;
    const notUtf8 = await browser.request(new URL(form.action, page.url).href, { method: 'POST', rawForm: raw });
    assert.equal(notUtf8.status, 400);
    assert.match(notUtf8.html, /not valid UTF-8/);
    assert.deepEqual(await throttleRows(), []);
  });

  it('answers 400 for a bad registration field, creates nothing and logs no error', async () => {
    const logged = logLines.length;
    for (const [what, value] of BAD_VALUES) {
      for (const field of ['email', 'username', 'name']) {
        const { browser, page } = await registerPage();
        const values = { email: 'new@example.com', password: PASSWORD, password_confirm: PASSWORD, [field]: value };
        const answer = await browser.submit(page, '/register', values);
        assert.equal(answer.status, 400, `${field} with ${what}`);
      }
    }
    const { rows } = await ferry.ferry.db.query('select count(*)::int as n from accounts');
    assert.deepEqual(rows, [{ n: 0 }]);
    assert.deepEqual(await throttleRows(), []);
    assert.deepEqual(errorsLogged(logged), [], 'no error and no stack in the log');
  });

  it('answers 400 for a NUL byte or a lone surrogate anywhere in an admin API body', async () => {
    const api = adminClient(ferry);
    const nul = await api.post('/users', { email: 'nul\u0000@example.com', password: PASSWORD });
    assert.equal(nul.status, 400, nul.text);
    assert.equal(nul.body.error, 'invalid_input');
    assert.match(nul.body.message, /"email" contains a NUL byte/);
    const surrogate = await api.post('/users', { email: 'lone@example.com', password: PASSWORD, name: 'x\ud800' });
    assert.equal(surrogate.status, 400, surrogate.text);
    assert.match(surrogate.body.message, /"name" contains a lone UTF-16 surrogate/);
    const { rows } = await ferry.ferry.db.query('select count(*)::int as n from accounts');
    assert.deepEqual(rows, [{ n: 0 }]);
  });

  it('builds the endpoints in discovery and its redirects from the issuer, whatever Host, X-Forwarded-Host or the request target say', async () => {
    const forged: { what: string; target: string; headers: Record<string, string> }[] = [
      { what: 'Host', target: '/.well-known/openid-configuration', headers: { host: 'evil.example' } },
      {
        what: 'X-Forwarded-Host behind the trusted proxy',
        target: '/.well-known/openid-configuration',
        headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
      },
      { what: 'an absolute request target', target: 'http://evil.example/.well-known/openid-configuration', headers: { host: 'evil.example' } },
    ];
    for (const { what, target, headers } of forged) {
      const answer = await rawGet(ferry.issuer, target, headers);
      assert.equal(answer.status, 200, what);
      const metadata = JSON.parse(answer.body) as Record<string, unknown>;
      for (const field of ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint']) {
        assert.ok(String(metadata[field]).startsWith(ferry.issuer), `${what}: ${field} is ${String(metadata[field])}`);
      }
    }
    const authorize = new URL(`${ferry.issuer}/auth`);
    for (const [name, value] of Object.entries({
      client_id: 'test-app',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: ferry.redirectUri,
      state: 's',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    })) {
      authorize.searchParams.set(name, value);
    }
    const redirected = await rawGet(ferry.issuer, authorize.pathname + authorize.search, { host: 'evil.example' });
    assert.equal(redirected.status, 303);
    assert.doesNotMatch(redirected.location ?? '', /evil/, `redirected to ${redirected.location}`);
  });
});
