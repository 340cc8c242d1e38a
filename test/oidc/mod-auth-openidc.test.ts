import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { apacheMissing, startApache, type RunningApache } from '../helpers/apache.ts';
import { Browser, type Page } from '../helpers/browser.ts';
import { freePort, removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { needService, postgresReachable } from '../helpers/services.ts';

const USERS = [{ email: 'grace@example.com', username: 'grace', name: 'Grace Hopper', password: 'grace-legacy-pw' }];
const CLIENT = { client_id: 'apache', client_secret: randomBytes(24).toString('hex') };

/** mod_auth_openidc's configuration as README.md gives it (plus the info hook), for an app at `app` and Ferry at `issuer`. */
function oidcDirectives(app: string, issuer: string): string {
  return `OIDCProviderMetadataURL ${issuer}/.well-known/openid-configuration
OIDCClientID ${CLIENT.client_id}
OIDCClientSecret ${CLIENT.client_secret}
OIDCRedirectURI ${app}/protected/redirect_uri
OIDCCryptoPassphrase ${randomBytes(24).toString('hex')}
OIDCScope "openid email profile"
OIDCPKCEMethod S256
OIDCDefaultURL ${app}/public/index.html
OIDCDefaultLoggedOutURL ${app}/public/signed-out.html
OIDCInfoHook iat access_token access_token_expires id_token userinfo refresh_token

# mod_auth_openidc 2.4.12 takes an error response carrying RFC 9207's iss for a discovery reply.
RewriteEngine On
RewriteCond %{QUERY_STRING} (^|&)error=access_denied(&|$)
RewriteRule ^/protected/redirect_uri$ ${app}/public/index.html? [R=302,L]
RewriteCond %{QUERY_STRING} (^|&)error=
RewriteCond %{QUERY_STRING} ^(.*?)(?:^|&)iss=[^&]*(.*)$
RewriteRule ^/protected/redirect_uri$ /protected/redirect_uri?%1%2 [PT,L]`;
}

/** The OIDC_* lines the protected CGI script printed, as a map. */
function variables(page: Page): Map<string, string> {
  return new Map(
    page.html
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('Apache with mod_auth_openidc as the relying party', () => {
  const missing = apacheMissing();
  let legacy: LegacyDatabase | undefined;
  let ferry: TestFerry | undefined;
  let apache: RunningApache | undefined;
  let app = '';
  const browser = new Browser();

  const needApache = (t: TestContext) =>
    needService(t, 'Apache with mod_auth_openidc', async () => {
      if (missing) throw new Error(missing);
    });

  before(async () => {
    if (missing) return;
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', USERS);
    const port = await freePort();
    app = `http://localhost:${port}`;
    ferry = await startFerry({
      clients: [
        {
          ...CLIENT,
          redirect_uris: [`${app}/protected/redirect_uri`],
          post_logout_redirect_uris: [`${app}/public/signed-out.html`],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
        },
      ],
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
    });
    apache = await startApache({ port, oidc: oidcDirectives(app, ferry.issuer) });
  });

  after(async () => {
    await apache?.stop();
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('signs a legacy user in through the hosted page and hands the claims to the protected page', async (t) => {
    if (!(await needApache(t))) return;
    const [row] = await legacy!.query('select id from users where email = $1', ['grace@example.com']);
    const account = async () => (await ferry!.ferry.db.query<{ migrated_at: Date }>('select migrated_at from accounts where sub = $1', [String(row!.id)])).rows;
    assert.equal((await account()).length, 0, 'not yet in Ferry');
    const login = await browser.get(`${app}/protected/claims`);
    assert.ok(login.url.startsWith(`${ferry!.issuer}/interaction/`), `Ferry's login page, got ${login.url} (${login.status})`);
    let page = await browser.submit(login, '/login', { identifier: 'grace@example.com', password: 'grace-legacy-pw' });
    if (page.url.includes('/interaction/') && page.html.includes('/confirm"')) page = await browser.submit(page, '/confirm');
    assert.equal(page.url, `${app}/protected/claims`, `${page.status} ${page.html.slice(0, 500)}\n${apache!.errorLog().slice(-3000)}`);
    const env = variables(page);
    assert.equal(env.get('OIDC_CLAIM_email'), 'grace@example.com');
    assert.equal(env.get('OIDC_CLAIM_name'), 'Grace Hopper');
    assert.equal(env.get('OIDC_CLAIM_preferred_username'), 'grace');
    assert.equal(env.get('OIDC_CLAIM_iss'), ferry!.issuer);
    assert.equal(env.get('OIDC_CLAIM_sub'), String(row!.id), 'sub is the legacy id');
    assert.equal(env.get('REMOTE_USER'), `${row!.id}@${ferry!.issuer}`);
    assert.ok((await account())[0]?.migrated_at instanceof Date, 'migrated into Ferry on this sign-in');
  });

  it('refreshes the access token through mod_auth_openidc, with a rotated refresh token', async (t) => {
    if (!(await needApache(t))) return;
    const session = async () =>
      JSON.parse((await browser.get(`${app}/protected/redirect_uri?info=json`)).html) as { access_token: string; refresh_token: string };
    const before = await session();
    const back = `${app}/protected/claims`;
    const page = await browser.get(`${app}/protected/redirect_uri?refresh=${encodeURIComponent(back)}&access_token=${encodeURIComponent(before.access_token)}`);
    assert.equal(page.url, back, `${page.status} ${page.html.slice(0, 500)}\n${apache!.errorLog().slice(-3000)}`);
    const token = variables(page).get('OIDC_access_token');
    assert.ok(token && token !== before.access_token, 'the app now holds a new access token');
    const now = await session();
    assert.equal(now.access_token, token);
    assert.notEqual(now.refresh_token, before.refresh_token, 'Ferry rotated the refresh token');
    const userinfo = await fetch(`${ferry!.issuer}/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await userinfo.json()) as { email: string }).email, 'grace@example.com', 'the new token works at userinfo');
  });

  it("signs out through Ferry's end-session page and back, after which the app asks for a sign-in again", async (t) => {
    if (!(await needApache(t))) return;
    const signedOut = `${app}/public/signed-out.html`;
    const confirm = await browser.get(`${app}/protected/redirect_uri?logout=${encodeURIComponent(signedOut)}`);
    assert.ok(confirm.url.startsWith(`${ferry!.issuer}/session/end?`), `Ferry's sign-out page, got ${confirm.url}`);
    const done = await browser.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    assert.equal(done.url, signedOut);
    assert.match(done.html, /Signed out of the app/);
    const again = await browser.get(`${app}/protected/claims`);
    assert.ok(again.url.startsWith(`${ferry!.issuer}/interaction/`), `a new sign-in at Ferry, got ${again.url} (${again.status})`);
    assert.match(again.html, /<h1>Sign in<\/h1>/);
  });

  it('lands a cancelled sign-in on OIDCDefaultURL, not on a new sign-in or an error page', async (t) => {
    if (!(await needApache(t))) return;
    const other = new Browser();
    const login = await other.get(`${app}/protected/claims`);
    const page = await other.submit(login, '/abort');
    assert.equal(page.url, `${app}/public/index.html`, `${page.status} ${page.html.slice(0, 500)}`);
  });

  it("shows any other error response carrying iss on mod_auth_openidc's error page instead of starting a new sign-in", async (t) => {
    if (!(await needApache(t))) return;
    const other = new Browser();
    const authorize = await other.request(`${app}/protected/claims`);
    const state = new URL(authorize.headers.get('location')!).searchParams.get('state')!;
    const query = new URLSearchParams({ error: 'server_error', error_description: 'Something broke.', state, iss: ferry!.issuer });
    const page = await other.get(`${app}/protected/redirect_uri?${query}`);
    assert.equal(page.url, `${app}/protected/redirect_uri?${query}`, 'no redirect back to Ferry');
    assert.match(page.html, /OpenID Connect Provider error: server_error/);
    assert.match(page.html, /Something broke\./);
  });
});
