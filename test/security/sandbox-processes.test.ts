import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as oidc from 'openid-client';
import { Browser, alertText } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { beginAuthorization, relyingParty, signIn } from '../helpers/relying-party.ts';
import { postgresReachable } from '../helpers/services.ts';

const USERS = [
  { email: 'alice@example.com', username: 'alice', name: 'Alice Liddell', password: 'alice-legacy-pw' },
  { email: 'bomb@example.com', username: 'bomb', name: 'Bomb Squad', password: 'bomb-legacy-pw' },
];

/** The PIDs of this process's children that are sandbox processes (Linux /proc). */
function sandboxChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === process.pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes('processes/child.ts')) pids.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return pids;
}

/**
 * A login script that makes V8 give up on its isolate (a catastrophic out-of-memory error) costs
 * its sandbox process, not the server: the next legacy sign-in succeeds, /readyz stays 200, and
 * no sandbox process outlives the server.
 */
describe('a catastrophic script error in a sandbox process', () => {
  let legacy: LegacyDatabase;
  let scripts: string;
  let ferry: TestFerry;
  let config: oidc.Configuration;

  before(async () => {
    await postgresReachable();
    legacy = await createLegacyDatabase('postgres', USERS);
    scripts = mkdtempSync(join(tmpdir(), 'ferry-bomb-scripts-'));
    cpSync(join(TEMPLATES, 'postgres'), scripts, { recursive: true });
    const login = readFileSync(join(scripts, 'login.js'), 'utf8');
    const bomb = `if (query.email === 'bomb@example.com') { const o = {}; for (let i = 0; i < 1.5e6; i++) o['k' + i] = i; }\n`;
    writeFileSync(join(scripts, 'login.js'), login.replace(/(async function login\(query, password, context\) \{\n)/, `$1  ${bomb}`));
    ferry = await startFerry({
      connection: { enabled: true, mode: 'LAZY_MIGRATION', env: { DB_CONNECTION_URI: legacy.url }, scriptsDir: scripts, limits: { memoryMb: 16 } },
    });
    config = await relyingParty(ferry);
  });

  after(async () => {
    await ferry?.stop();
    await legacy?.drop();
    if (ferry) removeDataDir(ferry.dataDir);
    if (scripts) rmSync(scripts, { recursive: true, force: true });
  });

  it('fails that sign-in, then signs the next legacy user in within 5 s with /readyz 200, and leaves no sandbox process behind', async () => {
    const browser = new Browser();
    const { page } = await beginAuthorization(ferry, config, browser);
    const refused = await browser.submit(page, '/login', { identifier: 'bomb@example.com', password: 'bomb-legacy-pw' }, ferry.redirectUri);
    assert.ok(!refused.url.startsWith(ferry.redirectUri), 'the bomb did not sign in');
    assert.ok(alertText(refused), 'the login page says why');

    const started = performance.now();
    const tokens = await signIn(ferry, config, new Browser(), 'alice@example.com', 'alice-legacy-pw');
    const elapsed = performance.now() - started;
    assert.equal(tokens.claims()!.email, 'alice@example.com');
    assert.ok(elapsed < 5000, `the next legacy sign-in took ${Math.round(elapsed)} ms`);

    const ready = await fetch(`${ferry.issuer}/readyz`);
    assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
    const metrics = await (await fetch(`${ferry.issuer}/metrics`)).text();
    assert.match(metrics, /ferry_sandbox_process_restarts\{reason="fatal"\} 1/, 'the process that lost its isolate was replaced');

    assert.ok(sandboxChildren().length > 0, 'scripts ran in sandbox processes');
    await ferry.stop();
    assert.deepEqual(sandboxChildren(), [], 'no sandbox process outlives the server');
  });
});
