import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { freePort, removeDataDir, startFerry, TEST_CLIENT, type TestFerry } from '../helpers/ferry.ts';
import { relyingParty } from '../helpers/relying-party.ts';

/** A relying party that requires a second factor of everyone who signs in to it. */
const STRICT_CLIENT = { ...TEST_CLIENT, client_id: 'strict-app', client_secret: 'strict-app-secret-that-is-long-enough' };
const USER = { email: 'grace@example.com', password: 'a passkey for grace 1' };

/**
 * Passkeys through the hosted pages in real Chromium, with the DevTools protocol's virtual
 * authenticator (a platform authenticator with user verification, discoverable credentials):
 * registration in the account area, a passkey as the second step after a password and as a
 * sign-in on its own, checked by openid-client in the ID token. One browser for the whole file.
 */
describe('passkeys', () => {
  let ferry: TestFerry;
  let chromium: Browser | undefined;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId: string;
  let rp: oidc.Configuration;
  let strict: oidc.Configuration;
  let sub: string;
  const api = () => adminClient(ferry);

  before(async () => {
    const port = await freePort();
    // WebAuthn refuses an IP address as relying-party id: the issuer is named by host name.
    const issuer = `http://localhost:${port}`;
    const callback = [`${issuer}/test-callback`];
    ferry = await startFerry(
      {
        issuer,
        adminToken: ADMIN_TOKEN,
        clients: [
          { ...TEST_CLIENT, redirect_uris: callback, skip_consent: true },
          { ...STRICT_CLIENT, redirect_uris: callback, skip_consent: true, require_mfa: true },
        ],
      },
      { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-test-')) },
    );
    rp = await relyingParty(ferry);
    strict = await relyingParty(ferry, STRICT_CLIENT);
    const created = await api().post('/users', { ...USER, name: 'Grace Hopper' });
    assert.equal(created.status, 201, created.text);
    sub = created.body.sub;
  });

  /** The browser, launched once for the file, with its page and the page's virtual authenticator; false when Chromium is missing (skipped). */
  const ready = async (t: TestContext): Promise<boolean> => {
    if (chromium) return true;
    chromium = await launchChromium(t);
    if (!chromium) return false;
    page = await (await chromium.newContext()).newPage();
    // The virtual authenticator answers the login page's autofill request at once, as if the person
    // picked the passkey: off (the browser says it has no autofill) except where a test turns it on.
    await page.addInitScript(() => {
      const pkc = (globalThis as { PublicKeyCredential?: { isConditionalMediationAvailable?: () => Promise<boolean> } }).PublicKeyCredential;
      if (pkc && globalThis.localStorage?.getItem('autofill') !== 'on') pkc.isConditionalMediationAvailable = async () => false;
    });
    cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    ({ authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    }));
    return true;
  };

  after(async () => {
    await chromium?.close();
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  /** Starts an authorization request of `client` in the page; `finish` waits for the client's callback and answers the ID token's claims. */
  const authorize = async (client: oidc.Configuration, extra: Record<string, string> = {}) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const checks = { pkceCodeVerifier: verifier, expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: ferry.redirectUri,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      nonce: checks.expectedNonce,
      ...extra,
    });
    await page.goto(url.href);
    const finish = async () => {
      await page.waitForURL((at) => at.href.startsWith(ferry.redirectUri));
      return (await oidc.authorizationCodeGrant(client, new URL(page.url()), checks)).claims()!;
    };
    return finish;
  };

  /** Clicks what sends a form, and waits for the page it brings. */
  const submitWith = async (selector: string) => {
    await Promise.all([page.waitForNavigation(), page.click(selector)]);
  };

  const typePassword = async () => {
    await page.fill('#identifier', USER.email);
    await page.fill('#password', USER.password);
    await submitWith('button[type=submit]:text("Sign in")');
  };

  /** The passkey button of the login page, refused there. */
  const passkeyRefused = async () => {
    await submitWith('#passkey-sign-in');
    assert.doesNotMatch(page.url(), /test-callback/);
    return (await page.textContent('#form-error')) ?? '';
  };
  const NOT_RECOGNISED = /not registered here, or it could not be checked/;

  const credentials = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

  const addPasskey = async (name: string) => {
    await page.goto(`${ferry.issuer}/account/two-step`);
    await page.fill('#passkey-name', name);
    await Promise.all([page.waitForURL(`${ferry.issuer}/account/passkeys`), page.click('#add-passkey')]);
    assert.ok(await page.isVisible('#passkey-added'), await page.content());
  };

  it('registers a passkey from the account area: discoverable, named, listed, with recovery codes as the first factor', async (t) => {
    if (!(await ready(t))) return;
    const finish = await authorize(rp);
    await typePassword();
    await finish();

    await page.goto(`${ferry.issuer}/account/two-step`);
    assert.equal(await page.getAttribute('form[data-passkey="register"]', 'hidden'), null, 'the script shows the form where WebAuthn exists');
    await addPasskey('Work laptop');
    assert.equal(await page.textContent('#passkeys .passkey-name'), 'Work laptop');
    assert.match((await page.textContent('#passkeys .passkey-last-used')) ?? '', /never/);
    assert.equal(await page.locator('#recovery-codes li').count(), 10, 'the first factor brings recovery codes, shown once');
    const [credential, ...others] = await credentials();
    assert.equal(others.length, 0);
    assert.equal(credential!.isResidentCredential, true, 'a discoverable credential');
    assert.equal(credential!.rpId, 'localhost', "the relying-party id is the issuer's host name");

    await page.goto(`${ferry.issuer}/account`);
    assert.equal(await page.textContent('#two-step-status'), 'On');
    assert.match((await page.textContent('#passkey-count')) ?? '', /1 passkey/);
  });

  it('asks for the passkey after the password, and the ID token says so: amr pwd + hwk + mfa, acr urn:ferry:mfa', async (t) => {
    if (!(await ready(t))) return;
    const finish = await authorize(rp, { prompt: 'login' });
    await typePassword();
    assert.ok(await page.isVisible('#passkey-second-factor'), 'the second step offers the passkey');
    await submitWith('#passkey-second-factor');
    const claims = await finish();
    assert.equal(claims.sub, sub);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa']);
    assert.equal(claims.acr, 'urn:ferry:mfa');

    await page.goto(`${ferry.issuer}/account/two-step`);
    assert.doesNotMatch((await page.textContent('#passkeys .passkey-last-used')) ?? '', /never/, 'its last use is shown');
  });

  it('signs in with the passkey alone, to a client that requires a second factor, and counts the sign-in', async (t) => {
    if (!(await ready(t))) return;
    const before = (await api().get(`/users/${sub}`)).body.signInCount;
    const finish = await authorize(strict, { prompt: 'login' });
    assert.equal(await page.getAttribute('#identifier', 'autocomplete'), 'username webauthn', "passkeys are offered in the browser's autofill");
    await page.click('#passkey-sign-in');
    const claims = await finish();
    assert.equal(claims.sub, sub);
    assert.deepEqual(claims.amr, ['hwk', 'mfa'], 'a user-verified passkey is multi-factor on its own');
    assert.equal(claims.acr, 'urn:ferry:mfa');
    const after = await api().get(`/users/${sub}`);
    assert.equal(after.body.signInCount, before + 1, 'counted like a password sign-in');
    await ferry.ferry.audit.flush();
    const audit = await api().get(`/audit?type=sign-in.succeeded&subject=${encodeURIComponent(sub)}`);
    assert.ok(
      audit.body.items.some((event: { detail: { path?: string } }) => event.detail.path === 'passkey'),
      `audited with its path: ${audit.text.slice(0, 400)}`,
    );
  });

  /** On the login page of a new authorization: two assertions over one challenge, each a valid signature with a higher counter. */
  const twoAssertionsOfOneChallenge = () =>
    page.evaluate(`(async () => {
      const form = document.querySelector('form[data-passkey="sign-in"]');
      const csrf = form.elements.csrf.value;
      const options = await (await fetch(form.dataset.options, { method: 'POST', body: new URLSearchParams({ csrf }) })).json();
      const assertion = async () => JSON.stringify((await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) })).toJSON());
      const responses = [await assertion(), await assertion()];
      const send = (response) => fetch(form.action, { method: 'POST', body: new URLSearchParams({ csrf, response }), redirect: 'manual' });
      const first = await send(responses[0]);
      const second = await send(responses[1]);
      return { first: first.type === 'opaqueredirect' ? 302 : first.status, second: second.status, text: await second.text() };
    })()`) as Promise<{ first: number; second: number; text: string }>;

  it("signs in from the browser's autofill (conditional mediation) without a click", async (t) => {
    if (!(await ready(t))) return;
    await page.evaluate(() => globalThis.localStorage.setItem('autofill', 'on'));
    try {
      const finish = await authorize(rp, { prompt: 'login' });
      const claims = await finish();
      assert.equal(claims.sub, sub);
      assert.deepEqual(claims.amr, ['hwk', 'mfa']);
    } finally {
      await page.evaluate(() => globalThis.localStorage.setItem('autofill', 'off'));
    }
  });

  it('takes each challenge once: a second assertion over the same challenge is refused', async (t) => {
    if (!(await ready(t))) return;
    await authorize(rp, { prompt: 'login' });
    const { first, second, text } = await twoAssertionsOfOneChallenge();
    assert.equal(first, 302, 'the first answer signs in');
    assert.equal(second, 401, 'the same challenge again is refused');
    assert.match(text, /not registered here, or it could not be checked/);
  });

  it('refuses a signature counter that went back (a cloned authenticator)', async (t) => {
    if (!(await ready(t))) return;
    const [credential] = await credentials();
    assert.ok(credential!.signCount > 1, 'the virtual authenticator counts');
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: credential!.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...credential!, signCount: 1 } });
    await authorize(rp, { prompt: 'login' });
    assert.match(await passkeyRefused(), NOT_RECOGNISED);
    await cdp.send('WebAuthn.removeCredential', { authenticatorId, credentialId: credential!.credentialId });
    await cdp.send('WebAuthn.addCredential', { authenticatorId, credential: { ...credential!, signCount: credential!.signCount + 100 } });
  });

  it('keeps a blocked user out, passkey or not', async (t) => {
    if (!(await ready(t))) return;
    assert.equal((await api().put(`/users/${sub}/block`)).status, 200);
    try {
      await authorize(rp, { prompt: 'login' });
      assert.ok(await passkeyRefused(), 'refused on the sign-in page');
    } finally {
      assert.equal((await api().delete(`/users/${sub}/block`)).status, 200);
    }
  });

  it('removes a passkey with the current password, after which it signs in no more', async (t) => {
    if (!(await ready(t))) return;
    // The block ended every session: signed in again, with the password and the passkey.
    const signedIn = await authorize(rp, { prompt: 'login' });
    await typePassword();
    await submitWith('#passkey-second-factor');
    await signedIn();
    await page.goto(`${ferry.issuer}/account/two-step`);
    await page.fill('#passkeys input[name=current_password]', 'not the password');
    await submitWith('#passkeys button:text("Remove this passkey")');
    assert.match((await page.textContent('#form-error')) ?? '', /current password is not correct/);
    await page.fill('#passkeys input[name=current_password]', USER.password);
    await submitWith('#passkeys button:text("Remove this passkey")');
    assert.ok(await page.isVisible('#passkey-removed'));
    assert.ok(await page.isVisible('#no-passkeys'));

    await authorize(rp, { prompt: 'login' });
    assert.match(await passkeyRefused(), NOT_RECOGNISED, 'the authenticator still has it; Ferry does not');
    const finish = await authorize(rp, { prompt: 'login' });
    await typePassword();
    assert.deepEqual((await finish()).amr, ['pwd'], 'no second step is left');
  });

  it("an administrator's reset of the second factors removes passkeys too", async (t) => {
    if (!(await ready(t))) return;
    await addPasskey('Phone');
    const reset = await api().delete(`/users/${sub}/second-factors`);
    assert.equal(reset.status, 200, reset.text);
    assert.equal(reset.body.removed, 1);
    const finish = await authorize(rp, { prompt: 'login' });
    assert.match(await passkeyRefused(), NOT_RECOGNISED);
    await typePassword();
    assert.deepEqual((await finish()).amr, ['pwd']);
  });
});
