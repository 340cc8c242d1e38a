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
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { relyingParty } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

/** A relying party that requires a second factor of everyone who signs in to it. */
const STRICT_CLIENT = { ...TEST_CLIENT, client_id: 'strict-app', client_secret: 'strict-app-secret-that-is-long-enough' };
const USER = { email: 'grace@example.com', password: 'a passkey for grace 1' };

/** One Chromium for the file: its page, and the page's virtual authenticator (DevTools protocol). */
const shared = {} as { chromium?: Browser | undefined; page: Page; cdp: CDPSession; authenticatorId: string };

/** The browser, launched at the first test that needs it; false when Chromium is missing (skipped). */
async function ready(t: TestContext): Promise<boolean> {
  if (shared.chromium) return true;
  shared.chromium = await launchChromium(t);
  if (!shared.chromium) return false;
  const page = await (await shared.chromium.newContext()).newPage();
  // Every wait here is for a page of this server on this machine: a broken step fails in seconds, not Playwright's 30.
  page.setDefaultTimeout(10_000);
  // The virtual authenticator answers the login page's autofill request at once, as if the person
  // picked the passkey: off (the browser says it has no autofill) except where a test turns it on.
  // With `json-helpers` off, the browser lacks PublicKeyCredential's JSON helpers (older browsers), so the script converts by hand.
  await page.addInitScript(() => {
    type Pkc = Record<string, unknown> & { isConditionalMediationAvailable?: () => Promise<boolean>; prototype: Record<string, unknown> };
    const pkc = (globalThis as { PublicKeyCredential?: Pkc }).PublicKeyCredential;
    if (!pkc) return;
    if (globalThis.localStorage?.getItem('autofill') !== 'on') pkc.isConditionalMediationAvailable = async () => false;
    if (globalThis.localStorage?.getItem('json-helpers') === 'off') {
      delete pkc.parseCreationOptionsFromJSON;
      delete pkc.parseRequestOptionsFromJSON;
      delete pkc.prototype.toJSON;
    }
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  Object.assign(shared, { page, cdp, authenticatorId });
  return true;
}

after(async () => {
  await shared.chromium?.close();
});

const NOT_RECOGNISED = /not registered here, or it could not be checked/;
const BLOCKED = 'This account is blocked. Please contact support.';

/** The steps of Ferry's pages in the shared page, for the Ferry `ferry()` answers and `user`. */
function flows(ferry: () => TestFerry, user: { email: string; password: string }) {
  const page = () => shared.page;

  /** Starts an authorization request of `client`; the function it answers waits for the client's callback and answers the ID token's claims. */
  const authorize = async (client: oidc.Configuration, extra: Record<string, string> = {}) => {
    const verifier = oidc.randomPKCECodeVerifier();
    const checks = { pkceCodeVerifier: verifier, expectedState: oidc.randomState(), expectedNonce: oidc.randomNonce() };
    const url = oidc.buildAuthorizationUrl(client, {
      redirect_uri: ferry().redirectUri,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: checks.expectedState,
      nonce: checks.expectedNonce,
      ...extra,
    });
    await page().goto(url.href);
    return async () => {
      await page().waitForURL((at) => at.href.startsWith(ferry().redirectUri));
      return (await oidc.authorizationCodeGrant(client, new URL(page().url()), checks)).claims()!;
    };
  };

  /** Clicks what sends a form, and waits for the page it brings. */
  const submitWith = async (selector: string) => {
    await Promise.all([page().waitForNavigation(), page().click(selector)]);
  };

  return {
    authorize,
    submitWith,
    typePassword: async () => {
      await page().fill('#identifier', user.email);
      await page().fill('#password', user.password);
      await submitWith('button[type=submit]:text-is("Sign in")');
    },
    /** The passkey button of the login page, refused there: the sentence shown. */
    passkeyRefused: async () => {
      await submitWith('#passkey-sign-in');
      assert.doesNotMatch(page().url(), /test-callback/);
      return (await page().textContent('#form-error')) ?? '';
    },
    addPasskey: async (name: string) => {
      await page().goto(`${ferry().issuer}/account/two-step`);
      await page().fill('#passkey-name', name);
      await Promise.all([page().waitForURL(`${ferry().issuer}/account/passkeys`), page().click('#add-passkey')]);
      assert.ok(await page().isVisible('#passkey-added'), await page().content());
    },
    credentials: async () => (await shared.cdp.send('WebAuthn.getCredentials', { authenticatorId: shared.authenticatorId })).credentials,
  };
}

/**
 * Passkeys through the hosted pages in real Chromium, with the DevTools protocol's virtual
 * authenticator (a platform authenticator with user verification, discoverable credentials):
 * registration in the account area, a passkey as the second step after a password and as a
 * sign-in on its own, checked by openid-client in the ID token. One browser for the whole file.
 */
describe('passkeys', () => {
  let ferry: TestFerry;
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
        blockedUserMessage: BLOCKED,
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

  after(async () => {
    await ferry?.stop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  const { authorize, submitWith, typePassword, passkeyRefused, addPasskey, credentials } = flows(() => ferry, USER);
  /** The recovery codes the first passkey brought. */
  let firstCodes: string[] = [];
  /** A second browser, signed in with the password and a recovery code. */
  let elsewhere: Page | undefined;

  /** Signs in from a browser of its own (no authenticator) with the password and `code`; its page, or undefined when the code is refused. */
  const signInElsewhere = async (code: string): Promise<Page | undefined> => {
    const page = await (await shared.chromium!.newContext()).newPage();
    page.setDefaultTimeout(10_000);
    const url = oidc.buildAuthorizationUrl(rp, {
      redirect_uri: ferry.redirectUri,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    await page.goto(url.href);
    await page.fill('#identifier', USER.email);
    await page.fill('#password', USER.password);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]:text-is("Sign in")')]);
    await page.fill('#code', code);
    await Promise.all([page.waitForNavigation(), page.click('button:text("Continue")')]);
    if (page.url().startsWith(ferry.redirectUri)) return page;
    assert.match((await page.textContent('#form-error')) ?? '', /not right/);
    await page.context().close();
    return undefined;
  };

  it('registers a passkey from the account area: discoverable, named, listed, with recovery codes as the first factor', async (t) => {
    if (!(await ready(t))) return;
    const finish = await authorize(rp);
    await typePassword();
    await finish();

    await shared.page.goto(`${ferry.issuer}/account/two-step`);
    assert.equal(await shared.page.getAttribute('form[data-passkey="register"]', 'hidden'), null, 'the script shows the form where WebAuthn exists');
    await addPasskey('Work laptop');
    assert.equal(await shared.page.textContent('#passkeys .passkey-name'), 'Work laptop');
    assert.match((await shared.page.textContent('#passkeys .passkey-last-used')) ?? '', /never/);
    assert.equal(await shared.page.locator('#recovery-codes li').count(), 10, 'the first factor brings recovery codes, shown once');
    firstCodes = (await shared.page.locator('#recovery-codes li').allTextContents()).map((code) => code.trim());
    const [credential, ...others] = await credentials();
    assert.equal(others.length, 0);
    assert.equal(credential!.isResidentCredential, true, 'a discoverable credential');
    assert.equal(credential!.rpId, 'localhost', "the relying-party id is the issuer's host name");

    await shared.page.fill('#passkeys input[name=name]', 'Grace’s laptop');
    await submitWith('#passkeys button:text("Rename")');
    assert.equal(await shared.page.textContent('#passkeys .passkey-name'), 'Grace’s laptop', 'renamed');

    await shared.page.goto(`${ferry.issuer}/account`);
    assert.equal(await shared.page.textContent('#two-step-status'), 'On');
    assert.match((await shared.page.textContent('#passkey-count')) ?? '', /1 passkey/);
  });

  it('asks for the passkey after the password, and the ID token says so: amr pwd + hwk + mfa, acr urn:ferry:mfa', async (t) => {
    if (!(await ready(t))) return;
    const finish = await authorize(rp, { prompt: 'login' });
    await typePassword();
    assert.ok(await shared.page.isVisible('#passkey-second-factor'), 'the second step offers the passkey');
    await submitWith('#passkey-second-factor');
    const claims = await finish();
    assert.equal(claims.sub, sub);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa']);
    assert.equal(claims.acr, 'urn:ferry:mfa');

    await shared.page.goto(`${ferry.issuer}/account/two-step`);
    assert.doesNotMatch((await shared.page.textContent('#passkeys .passkey-last-used')) ?? '', /never/, 'its last use is shown');
  });

  it('signs in with the passkey alone, to a client that requires a second factor, and counts the sign-in', async (t) => {
    if (!(await ready(t))) return;
    const before = (await api().get(`/users/${sub}`)).body.signInCount;
    const finish = await authorize(strict, { prompt: 'login' });
    assert.equal(await shared.page.getAttribute('#identifier', 'autocomplete'), 'username webauthn', "passkeys are offered in the browser's autofill");
    await shared.page.click('#passkey-sign-in');
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
    shared.page.evaluate(`(async () => {
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
    await shared.page.evaluate(() => globalThis.localStorage.setItem('autofill', 'on'));
    try {
      const finish = await authorize(rp, { prompt: 'login' });
      const claims = await finish();
      assert.equal(claims.sub, sub);
      assert.deepEqual(claims.amr, ['hwk', 'mfa']);
    } finally {
      await shared.page.evaluate(() => globalThis.localStorage.setItem('autofill', 'off'));
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
    await shared.cdp.send('WebAuthn.removeCredential', { authenticatorId: shared.authenticatorId, credentialId: credential!.credentialId });
    await shared.cdp.send('WebAuthn.addCredential', { authenticatorId: shared.authenticatorId, credential: { ...credential!, signCount: 1 } });
    await authorize(rp, { prompt: 'login' });
    assert.match(await passkeyRefused(), NOT_RECOGNISED);
    await shared.cdp.send('WebAuthn.removeCredential', { authenticatorId: shared.authenticatorId, credentialId: credential!.credentialId });
    await shared.cdp.send('WebAuthn.addCredential', {
      authenticatorId: shared.authenticatorId,
      credential: { ...credential!, signCount: credential!.signCount + 100 },
    });
  });

  it('keeps a blocked user out, passkey or not', async (t) => {
    if (!(await ready(t))) return;
    assert.equal((await api().put(`/users/${sub}/block`)).status, 200);
    try {
      await authorize(rp, { prompt: 'login' });
      assert.equal(await passkeyRefused(), BLOCKED, 'refused on the sign-in page, as blocked');
    } finally {
      assert.equal((await api().delete(`/users/${sub}/block`)).status, 200);
    }
  });

  it('replaces the recovery codes of an account whose factors are passkeys, with the password, and signs its other browsers out', async (t) => {
    if (!(await ready(t))) return;
    // The block ended every session: signed in again, with the password and the passkey.
    const signedIn = await authorize(rp, { prompt: 'login' });
    await typePassword();
    await submitWith('#passkey-second-factor');
    await signedIn();
    elsewhere = await signInElsewhere(firstCodes[0]!);
    assert.ok(elsewhere, 'another browser signs in with the password and a recovery code');

    await shared.page.goto(`${ferry.issuer}/account/two-step`);
    await shared.page.fill('#recovery-codes-password', 'not the password');
    await submitWith('#passkeys-heading ~ form button:text("New recovery codes")');
    assert.match((await shared.page.textContent('#form-error')) ?? '', /current password is not correct/);
    await shared.page.fill('#recovery-codes-password', USER.password);
    await submitWith('#passkeys-heading ~ form button:text("New recovery codes")');
    const newCodes = (await shared.page.locator('#recovery-codes li').allTextContents()).map((code) => code.trim());
    assert.equal(newCodes.length, 10);
    assert.equal(newCodes.filter((code) => firstCodes.includes(code)).length, 0, 'all new');
    assert.match((await shared.page.textContent('#recovery-codes-shown')) ?? '', /other browsers were signed out/);
    assert.equal((await elsewhere.goto(`${ferry.issuer}/account`))?.status(), 401, 'the other browser is signed out');
    assert.equal((await shared.page.goto(`${ferry.issuer}/account`))?.status(), 200, 'this one is not');

    assert.equal(await signInElsewhere(firstCodes[1]!), undefined, 'an old recovery code works no more');
    elsewhere = await signInElsewhere(newCodes[0]!);
    assert.ok(elsewhere, 'a new one does');
  });

  it('removes a passkey with the current password, after which it signs in no more', async (t) => {
    if (!(await ready(t))) return;
    // The block ended every session: signed in again, with the password and the passkey.
    const signedIn = await authorize(rp, { prompt: 'login' });
    await typePassword();
    await submitWith('#passkey-second-factor');
    await signedIn();
    await shared.page.goto(`${ferry.issuer}/account/two-step`);
    await shared.page.fill('#passkeys input[name=current_password]', 'not the password');
    await submitWith('#passkeys button:text("Remove this passkey")');
    assert.match((await shared.page.textContent('#form-error')) ?? '', /current password is not correct/);
    await shared.page.fill('#passkeys input[name=current_password]', USER.password);
    await submitWith('#passkeys button:text("Remove this passkey")');
    assert.ok(await shared.page.isVisible('#passkey-removed'));
    assert.ok(await shared.page.isVisible('#no-passkeys'));
    assert.equal((await elsewhere!.goto(`${ferry.issuer}/account`))?.status(), 401, 'taking a factor away signed the other browser out');
    assert.equal((await shared.page.goto(`${ferry.issuer}/account`))?.status(), 200, 'but not this one');

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

  it('enrols a passkey during a sign-in that needs a second factor, and refuses that enrolment to an account that has one', async (t) => {
    if (!(await ready(t))) return;
    // After the reset the account has no factor: a client that requires one offers enrolment.
    const finish = await authorize(strict, { prompt: 'login' });
    await typePassword();
    assert.ok(await shared.page.isVisible('#totp-secret'), 'the authenticator app is offered');
    await submitWith('#enrol-passkey');
    assert.equal(await shared.page.locator('#recovery-codes li').count(), 10, 'the first factor brings recovery codes');
    await submitWith('button:text("I have kept them: continue")');
    const claims = await finish();
    assert.equal(claims.sub, sub);
    assert.deepEqual(claims.amr, ['pwd', 'hwk', 'mfa'], 'registering the key proved it');
    assert.equal(claims.acr, 'urn:ferry:mfa');

    // Now that it has one, the sign-in asks for it, and a passkey cannot be enrolled instead of it.
    const again = await authorize(strict, { prompt: 'login' });
    await typePassword();
    assert.ok(await shared.page.isVisible('#passkey-second-factor'));
    const uid = new URL(shared.page.url()).pathname.split('/')[2];
    const csrf = (await shared.page.getAttribute('input[name=csrf]', 'value')) ?? '';
    const status = await shared.page.evaluate(
      async ([path, token]) => (await fetch(path!, { method: 'POST', body: new URLSearchParams({ csrf: token! }) })).status,
      [`/interaction/${uid}/two-step/passkey/enrol/options`, csrf],
    );
    assert.equal(status, 409, 'no enrolment in place of the factor the account has');
    await submitWith('#passkey-second-factor');
    assert.deepEqual((await again()).amr, ['pwd', 'hwk', 'mfa']);
  });
});

/**
 * A custom user store's user: no account in Ferry, the passkey kept by subject, the claims from
 * `getUser` at a sign-in with the passkey alone, and the current password for removing it checked
 * by `validatePassword`, on a real PostgreSQL legacy database.
 */
describe("passkeys of a custom user store's user, in a browser without the WebAuthn JSON helpers", () => {
  const LEGACY_USER = { email: 'hedy@example.com', username: 'hedy', name: 'Hedy Lamarr', password: 'frequency hopping 1' };
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let rp: oidc.Configuration;
  const { authorize, submitWith, typePassword, passkeyRefused, addPasskey } = flows(() => ferry, LEGACY_USER);

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', [LEGACY_USER]);
    const port = await freePort();
    const issuer = `http://localhost:${port}`;
    ferry = await startFerry(
      {
        issuer,
        clients: [{ ...TEST_CLIENT, redirect_uris: [`${issuer}/test-callback`], skip_consent: true }],
        connection: {
          enabled: true,
          mode: 'CUSTOM_USER_STORE',
          env: { DB_CONNECTION_URI: legacy.url },
          scriptsDir: join(TEMPLATES, 'postgres'),
          claimsCacheSeconds: 0,
        },
      },
      { port, dataDir: mkdtempSync(join(tmpdir(), 'ferry-test-')) },
    );
    rp = await relyingParty(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  it('registers, signs in with the passkey alone (claims from getUser), and removes it after validatePassword', async (t) => {
    if (!(await ready(t))) return;
    // The authenticator's passkeys of the suite above are for the same host name: this user's alone from here.
    await shared.cdp.send('WebAuthn.clearCredentials', { authenticatorId: shared.authenticatorId });
    const [legacyRow] = await legacy.users();
    const legacySub = String(legacyRow!.id);
    const signedIn = await authorize(rp);
    await shared.page.evaluate(() => globalThis.localStorage.setItem('json-helpers', 'off'));
    await shared.page.reload();
    await typePassword();
    assert.equal((await signedIn()).sub, legacySub);
    await addPasskey('Hedy’s laptop');
    assert.equal((await ferry.ferry.db.query<{ n: number }>('select count(*)::int as n from accounts')).rows[0]!.n, 0, 'no copy of the user in Ferry');

    const passwordless = await authorize(rp, { prompt: 'login' });
    await submitWith('#passkey-sign-in');
    const claims = await passwordless();
    assert.deepEqual([claims.sub, claims.email, claims.amr], [legacySub, LEGACY_USER.email, ['hwk', 'mfa']]);

    await shared.page.goto(`${ferry.issuer}/account/two-step`);
    await shared.page.fill('#passkeys input[name=current_password]', 'not the password');
    await submitWith('#passkeys button:text("Remove this passkey")');
    assert.match((await shared.page.textContent('#form-error')) ?? '', /current password is not correct/);
    await shared.page.fill('#passkeys input[name=current_password]', LEGACY_USER.password);
    await submitWith('#passkeys button:text("Remove this passkey")');
    assert.ok(await shared.page.isVisible('#passkey-removed'));
    await authorize(rp, { prompt: 'login' });
    assert.match(await passkeyRefused(), NOT_RECOGNISED);
    assert.equal(await shared.page.evaluate("'parseRequestOptionsFromJSON' in PublicKeyCredential"), false, "this suite ran the script's own conversions");
  });
});
