import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { beginAuthorization, ferryForSuite } from '../helpers/relying-party.ts';

const USER = { email: 'remembered@example.com', password: 'a remembered passphrase' };

describe('consent is remembered across browser sessions', () => {
  const suite = ferryForSuite();

  /** Signs in in a new browser (a new session); answers the page after the login form. */
  const signInFresh = async (scope?: string) => {
    const browser = new Browser();
    const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, browser, scope ? { scope } : {});
    const next = await browser.submit(page, '/login', { identifier: USER.email, password: USER.password }, suite.ferry.redirectUri);
    return { browser, next, checks };
  };
  const asksConsent = (html: string) => html.includes('/confirm"');

  it('asks once, not again in a new browser, again for a new scope, and again after the grant is revoked', async () => {
    // Registration signs in and asks for consent (to email only) in its browser.
    const browser = new Browser();
    const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, browser, { scope: 'openid email' });
    const form = await browser.get(new URL(`${new URL(page.url).pathname}/register`, page.url).href);
    const consent = await browser.submit(form, '/register', { ...USER, password_confirm: USER.password }, suite.ferry.redirectUri);
    assert.ok(asksConsent(consent.html), 'the first time, consent is asked');
    const registered = await browser.submit(consent, '/confirm', {}, suite.ferry.redirectUri);
    const first = await oidc.authorizationCodeGrant(suite.rp, new URL(registered.url), checks);
    assert.ok(first.refresh_token);

    const again = await signInFresh('openid email');
    assert.ok(again.next.url.startsWith(suite.ferry.redirectUri), `straight back to the client, no consent page: ${again.next.url}`);
    const tokens = await oidc.authorizationCodeGrant(suite.rp, new URL(again.next.url), again.checks);
    assert.equal(tokens.claims()!.email, USER.email, 'the claims of the remembered scopes');

    const wider = await signInFresh('openid email profile');
    assert.ok(asksConsent(wider.next.html), 'a scope not granted yet is asked for');
    assert.match(wider.next.html, /your name, username and profile details/);
    assert.doesNotMatch(wider.next.html, /your email address/, 'only what is missing is asked for');

    // Revoking the refresh token revokes its grant: consent is asked again.
    await oidc.tokenRevocation(suite.rp, tokens.refresh_token!);
    const afterRevoke = await signInFresh('openid email');
    assert.ok(asksConsent(afterRevoke.next.html), 'consent asked again once the grant is gone');
  });
});
