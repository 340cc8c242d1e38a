import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { parseConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { startServer } from '../../src/server.ts';
import { Browser } from '../helpers/browser.ts';
import { TEST_CLIENT, freePort, removeDataDir, type TestFerry } from '../helpers/ferry.ts';
import { beginAuthorization, registerThroughForm, relyingParty, signIn } from '../helpers/relying-party.ts';

/** A pino destination that keeps every line written to it. */
function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { destination, text: () => lines.join('\n'), lines };
}

function assertAbsent(log: string, secrets: Record<string, string | undefined>) {
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(value && value.length >= 8, `${what} is known to the test`);
    assert.ok(!log.includes(value), `the ${what} appears in the log`);
  }
}

describe('log redaction', () => {
  it('replaces passwords, secrets, cookies, tokens and URL credentials, keeping the rest', () => {
    const { destination, lines } = capture();
    const log = createLogger({ level: 'trace', destination });
    log.info(
      {
        user: 'ada@example.com',
        password: 'hunter2-password',
        body: { identifier: 'ada', newPassword: 'next-password-1' },
        client: { client_id: 'shop', client_secret: 'shop-client-secret' },
        headers: { cookie: '_session=cookie-value-123', authorization: 'Basic c2hvcDpzZWNyZXQ=', accept: 'text/html' },
        tokens: [{ access_token: 'access-token-value', refresh_token: 'refresh-token-value', id_token: 'id-token-value' }],
        env: { DB_CONNECTION_URI: 'postgres://legacy:uri-password@db/app', DB_PASSWORD: 'env-db-password', DB_HOST: 'db' },
        url: 'mysql://legacy:url-password@db:3306/app',
      },
      'a request',
    );
    log.error({ err: new Error('connect to postgres://legacy:error-password@db/app failed') }, 'failed');
    const [first, second] = lines.map((line) => JSON.parse(line));
    const text = lines.join('\n');
    for (const secret of [
      'hunter2-password',
      'next-password-1',
      'shop-client-secret',
      'cookie-value-123',
      'c2hvcDpzZWNyZXQ=',
      'access-token-value',
      'refresh-token-value',
      'id-token-value',
      'uri-password',
      'env-db-password',
      'url-password',
      'error-password',
    ]) {
      assert.ok(!text.includes(secret), `${secret} is redacted`);
    }
    assert.equal(first.password, '[redacted]');
    assert.equal(first.client.client_id, 'shop');
    assert.equal(first.headers.accept, 'text/html');
    assert.equal(first.env.DB_HOST, 'db');
    assert.equal(first.url, 'mysql://legacy:***@db:3306/app');
    assert.equal(second.err.message, 'connect to postgres://legacy:***@db/app failed');
  });

  it('keeps no password, client secret, cookie or token of a real sign-in and token exchange in the log', async () => {
    const { destination, text } = capture();
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-log-'));
    const redirectUri = `${issuer}/test-callback`;
    const config = parseConfig({
      port,
      host: '127.0.0.1',
      issuer,
      dataDir,
      demo: false,
      logLevel: 'trace',
      clients: [{ ...TEST_CLIENT, redirect_uris: [redirectUri] }],
    });
    const running = await startServer(config, createLogger({ level: 'trace', destination }));
    const ferry: TestFerry = { ...running, issuer, dataDir, redirectUri, restart: () => Promise.reject(new Error('not here')) };
    try {
      const password = 'a logged sign-in password';
      const rp = await relyingParty(ferry);
      await registerThroughForm(ferry, rp, new Browser(), { email: 'logged@example.com', password });
      const browser = new Browser();
      const wrong = await beginAuthorization(ferry, rp, browser);
      await browser.submit(wrong.page, '/login', { identifier: 'logged@example.com', password: 'a wrong password guess' });
      const tokens = await signIn(ferry, rp, browser, 'logged@example.com', password);
      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      await oidc.fetchUserInfo(rp, refreshed.access_token, tokens.claims()!.sub);
      await oidc.tokenIntrospection(rp, refreshed.access_token);

      const log = text();
      assert.match(log, /"msg":"account registered"/, 'the log was captured');
      assert.match(log, /"msg":"local sign-in refused"/);
      assertAbsent(log, {
        password,
        'wrong password': 'a wrong password guess',
        'client secret': TEST_CLIENT.client_secret,
        'access token': tokens.access_token,
        'refresh token': tokens.refresh_token,
        'ID token': tokens.id_token,
        'rotated refresh token': refreshed.refresh_token,
      });
      const cookies = browser.setCookies.map((line) => line.split(';')[0]!.split('=').slice(1).join('=')).filter((value) => value.length >= 8);
      assert.ok(cookies.length > 0, 'the browser got cookies');
      for (const [index, value] of cookies.entries()) assertAbsent(log, { [`cookie ${index}`]: value });
    } finally {
      await running.stop();
      removeDataDir(dataDir);
    }
  });
});
