import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ADMIN_TOKEN, adminClient } from '../helpers/admin.ts';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';

/** The rule between ferry.config.json and settings saved in the console or API, seen and changed by an operator. */
describe('connection settings: the configuration file or the console', () => {
  const started: TestFerry[] = [];
  const start = async (claimsCacheSeconds: number, reuse?: TestFerry) => {
    const ferry = await startFerry(
      { adminToken: ADMIN_TOKEN, connection: { claimsCacheSeconds, maxConcurrentScripts: 8 } },
      reuse ? { port: Number(new URL(reuse.issuer).port), dataDir: reuse.dataDir } : undefined,
    );
    started.push(ferry);
    return ferry;
  };
  after(async () => {
    for (const ferry of started) await ferry.stop().catch(() => {});
    if (started[0]) removeDataDir(started[0].dataDir);
  });

  it('says where each value comes from; a saved value hides the file until the file is followed again', async () => {
    let ferry = await start(30);
    let api = adminClient(ferry);
    const first = (await api.get('/connection')).body;
    assert.equal(first.claimsCacheSeconds, 30);
    assert.ok(
      Object.values(first.sources).every((origin) => origin === 'file'),
      JSON.stringify(first.sources),
    );

    const saved = await api.patch('/connection', { claimsCacheSeconds: 60 });
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.body.sources.claimsCacheSeconds, 'saved');
    assert.equal(saved.body.sources.maxConcurrentScripts, 'file', 'only what was saved');

    // Saving the file's own value follows the file again.
    assert.equal((await api.patch('/connection', { maxConcurrentScripts: 8 })).body.sources.maxConcurrentScripts, 'file');
    assert.equal((await api.patch('/connection', { maxConcurrentScripts: 9 })).body.sources.maxConcurrentScripts, 'saved');
    assert.equal((await api.patch('/connection', { maxConcurrentScripts: 8 })).body.sources.maxConcurrentScripts, 'file');

    // The file changes across a restart: the saved value still wins, and the console says so.
    await ferry.stop();
    ferry = await start(45, ferry);
    api = adminClient(ferry);
    const after = (await api.get('/connection')).body;
    assert.deepEqual([after.claimsCacheSeconds, after.sources.claimsCacheSeconds], [60, 'saved']);
    const browser = new Browser();
    await browser.submit(await browser.get(`${ferry.issuer}/console/login`), '/console/login', { token: ADMIN_TOKEN });
    const page = await browser.get(`${ferry.issuer}/console/connection`);
    assert.match(page.html, /<code>claimsCacheSeconds<\/code><\/td><td data-origin="saved">saved in the console or API/);
    assert.match(page.html, /<code>mode<\/code><\/td><td data-origin="file">the configuration file/);
    assert.match(page.html, /Mode <span class="origin origin-file">from the configuration file<\/span>/);

    // Following the file again: its value counts, on the page and in the API.
    const followed = await browser.submit(page, '/console/connection/follow-file');
    assert.match(followed.html, /the configuration file counts again/);
    assert.doesNotMatch(followed.html, /data-origin="saved"/);
    assert.ok(!followed.html.includes('/console/connection/follow-file'), 'nothing left to forget');
    const now = (await api.get('/connection')).body;
    assert.deepEqual([now.claimsCacheSeconds, now.sources.claimsCacheSeconds], [45, 'file']);

    // The same through the API.
    await api.patch('/connection', { claimsCacheSeconds: 90 });
    const forgotten = await api.delete('/connection/saved');
    assert.deepEqual([forgotten.status, forgotten.body.claimsCacheSeconds, forgotten.body.sources.claimsCacheSeconds], [200, 45, 'file']);
  });
});
