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

/** mod_auth_openidc's configuration, as the README shows it, for an app at `app` and Ferry at `issuer`. */
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
OIDCInfoHook iat access_token access_token_expires id_token userinfo refresh_token`;
}

/** The OIDC_* lines the protected CGI script printed, as a map. */
function variables(page: Page): Map<string, string> {
  return new Map(page.html.split('\n').filter((line) => line.includes('=')).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
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
    if (apache && process.env.FERRY_TEST_APACHE_LOG) console.log(apache.errorLog());
    await apache?.stop();
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('signs a legacy user in through the hosted page and hands the claims to the protected page', async (t) => {
    if (!(await needApache(t))) return;
    const login = await browser.get(`${app}/protected/claims`);
    assert.ok(login.url.startsWith(`${ferry!.issuer}/interaction/`), `Ferry's login page, got ${login.url} (${login.status})`);
    let page = await browser.submit(login, '/login', { identifier: 'grace@example.com', password: 'grace-legacy-pw' });
    if (page.url.includes('/interaction/') && page.html.includes('/confirm"')) page = await browser.submit(page, '/confirm');
    assert.equal(page.url, `${app}/protected/claims`, `${page.status} ${page.html.slice(0, 500)}\n${apache!.errorLog().slice(-3000)}`);
    const env = variables(page);
    console.log(page.html);
    assert.equal(env.get('OIDC_CLAIM_email'), 'grace@example.com');
  });
});
