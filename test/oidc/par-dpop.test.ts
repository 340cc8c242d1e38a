import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as oidc from 'openid-client';
import { Browser } from '../helpers/browser.ts';
import { beginAuthorization, completeLogin, ferryForSuite, registerThroughForm } from '../helpers/relying-party.ts';

const USER = { email: 'pat@example.com', password: 'pat own password' };

/**
 * Two features oidc-provider turns on that Ferry keeps and documents: pushed authorization
 * requests (RFC 9126) and DPoP (RFC 9449), driven by openid-client as a relying party uses them.
 */
describe('pushed authorization requests and DPoP', () => {
  const suite = ferryForSuite();

  it('takes a pushed authorization request: the browser carries only client_id and request_uri', async () => {
    await registerThroughForm(suite.ferry, suite.rp, new Browser(), USER);
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const url = await oidc.buildAuthorizationUrlWithPAR(suite.rp, {
      redirect_uri: suite.ferry.redirectUri,
      scope: 'openid email',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    assert.match(url.searchParams.get('request_uri')!, /^urn:ietf:params:oauth:request_uri:/);
    const browser = new Browser();
    const callback = await completeLogin(suite.ferry, browser, await browser.get(url.href, suite.ferry.redirectUri), USER.email, USER.password);
    const tokens = await oidc.authorizationCodeGrant(suite.rp, new URL(callback.url), { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.claims()!.email, USER.email);
  });

  it('binds tokens to the client’s DPoP key: the access token works with a proof and is refused as a plain bearer token', async () => {
    const DPoP = oidc.getDPoPHandle(suite.rp, await oidc.randomDPoPKeyPair());
    const browser = new Browser();
    const { page, checks } = await beginAuthorization(suite.ferry, suite.rp, browser, { scope: 'openid email' });
    const callback = await completeLogin(suite.ferry, browser, page, USER.email, USER.password);
    const tokens = await oidc.authorizationCodeGrant(suite.rp, new URL(callback.url), checks, undefined, { DPoP });
    assert.equal(tokens.token_type.toLowerCase(), 'dpop');
    const sub = tokens.claims()!.sub;
    assert.equal((await oidc.fetchUserInfo(suite.rp, tokens.access_token, sub, { DPoP })).email, USER.email);

    const bearer = await fetch(`${suite.ferry.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(bearer.status, 401, 'a DPoP-bound token without its proof is refused');
    const otherKey = oidc.getDPoPHandle(suite.rp, await oidc.randomDPoPKeyPair());
    await assert.rejects(oidc.fetchUserInfo(suite.rp, tokens.access_token, sub, { DPoP: otherKey }), 'a proof from another key is refused');

    const refreshed = await oidc.refreshTokenGrant(suite.rp, tokens.refresh_token!, undefined, { DPoP });
    assert.equal(refreshed.token_type.toLowerCase(), 'dpop');
  });
});
