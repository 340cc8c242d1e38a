import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcrypt';
import type * as oidc from 'openid-client';
import { Browser, findForm, type Page } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase, type LegacyUser } from '../helpers/legacy.ts';
import { beginAuthorization, consentIfAsked, relyingParty } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

/** bcrypt cost of the legacy hashes: what real legacy databases hold (10 and up), high enough to be seen. */
const LEGACY_COST = 12;
const ATTEMPTS = 15;
const user = (name: string): LegacyUser => ({ email: `${name}@example.com`, username: name, name, password: `${name}-legacy-pw` });
/** Signed in once during the warm-up: they migrate, and their sign-ins after that are local. */
const WARM = ['amber', 'basil', 'cedar', 'delta', 'ember', 'flint', 'grove', 'heath'].map(user);
/** Never signed in: a wrong password for them runs the legacy script's bcrypt compare. */
const COLD = ['ivory', 'jasper', 'kestrel'].map(user);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

describe('failure timing with both local and legacy sign-ins', () => {
  let legacy: LegacyDatabase;
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', [...WARM, ...COLD]);
    for (const { email, password } of [...WARM, ...COLD]) {
      await legacy.query('update users set password = $1 where email = $2', [await bcrypt.hash(password, LEGACY_COST), email]);
    }
    ferry = await startFerry({
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: join(TEMPLATES, 'postgres') },
      // Brute-force delays would swamp what is measured here.
      bruteForce: { account: { freeFailures: 1000 }, ip: { freeFailures: 1000 } },
    });
    config = await relyingParty(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
  });

  /** Posts the hosted login form; times the POST alone, as an attacker would. */
  const post = async (identifier: string, password: string) => {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const form = findForm(page, '/login');
    const started = performance.now();
    const answer: Page = await browser.request(new URL(form.action, page.url).href, { method: form.method, form: { ...form.fields, identifier, password } });
    const took = performance.now() - started;
    return { answer, took, browser };
  };

  it('holds an unknown user as long as a wrong password of an unmigrated legacy user, and as a legacy sign-in', async (t) => {
    const legacySuccess: number[] = [];
    for (const { email, password } of WARM) {
      const { answer, took, browser } = await post(email, password);
      assert.equal(answer.status, 303, `${email} signs in`);
      const done = await consentIfAsked(ferry, browser, await browser.follow(answer, ferry.redirectUri));
      assert.ok(done.url.startsWith(ferry.redirectUri), `${email} migrated: ${done.url}`);
      legacySuccess.push(took);
    }
    // Most sign-ins from now on are local argon2 checks of migrated users, far faster than bcrypt.
    for (let i = 0; i < 90; i++) {
      const { email, password } = WARM[i % WARM.length]!;
      const result = await ferry.ferry.federation.signIn.signIn(email, password, { ip: '127.0.0.1' });
      assert.equal(result.ok, true);
    }

    const wrong: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < ATTEMPTS; i++) {
      const a = await post(COLD[i % COLD.length]!.email, 'not the right password');
      const b = await post(`nobody-${i}@example.com`, 'not the right password');
      assert.equal(a.answer.status, 401);
      assert.equal(b.answer.status, 401);
      wrong.push(a.took);
      unknown.push(b.took);
    }

    const wrongMedian = median(wrong);
    const unknownMedian = median(unknown);
    const legacyMedian = median(legacySuccess);
    // Generous for a busy 2-core machine; what it guards against is the bcrypt compare (cost 12,
    // a few hundred milliseconds) showing through.
    const tolerance = Math.max(60, legacyMedian * 0.2);
    const figures = `wrong password ${wrongMedian.toFixed(0)} ms, unknown user ${unknownMedian.toFixed(0)} ms, legacy sign-in ${legacyMedian.toFixed(0)} ms, tolerance ${tolerance.toFixed(0)} ms, floor ${ferry.ferry.federation.floor.floor().toFixed(0)} ms`;
    t.diagnostic(figures);
    assert.ok(Math.abs(wrongMedian - unknownMedian) <= tolerance, `medians differ: ${figures}`);
    assert.ok(unknownMedian >= legacyMedian - tolerance, `an unknown user answers sooner than a legacy sign-in: ${figures}`);
  });
});
