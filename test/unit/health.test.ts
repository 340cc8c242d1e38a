import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { createHealthRoutes } from '../../src/ops/health.ts';
import { openDatabase } from '../../src/store/index.ts';

describe('readiness', () => {
  it('reports ready with a working database and sandbox, and degraded once the sandbox is broken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-health-'));
    const db = await openDatabase({ dataDir });
    let broken: string | undefined;
    const app = new Koa();
    app.use(createHealthRoutes(db, () => broken).routes());
    const server = createServer(app.callback()).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/readyz`;
    try {
      const ready = await fetch(url);
      assert.equal(ready.status, 200);
      assert.deepEqual(await ready.json(), { status: 'ready', database: 'pglite' });
      broken = 'isolate thread lost';
      const degraded = await fetch(url);
      assert.equal(degraded.status, 503);
      assert.match(((await degraded.json()) as { message: string }).message, /scripts cannot run: isolate thread lost/);
      await db.close();
      const down = await fetch(url);
      assert.equal(down.status, 503, 'a closed database is not ready either');
    } finally {
      server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
