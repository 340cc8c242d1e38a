import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Browser } from '../helpers/browser.ts';
import { removeDataDir, startFerry, type TestFerry } from '../helpers/ferry.ts';
import { TEMPLATES, createLegacyDatabase, type LegacyDatabase } from '../helpers/legacy.ts';
import { relyingParty, signIn } from '../helpers/relying-party.ts';
import { createPostgresDatabase, postgresReachable } from '../helpers/services.ts';

const CAROL = { email: 'carol@example.com', username: 'carol', name: 'Carol Shaw', password: 'carol-legacy-pw' };

/**
 * PGlite runs one statement at a time, so first logins racing on it never truly overlap in the
 * database. Here Ferry's store is a real PostgreSQL shared by two instances, as in production.
 */
describe('concurrent first sign-ins on two instances over one PostgreSQL', () => {
  let legacy: LegacyDatabase;
  let store: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let instances: TestFerry[] = [];

  before(async () => {
    await postgresReachable().catch((error: Error) => {
      throw new Error(`PostgreSQL is required for this suite: ${error.message}`);
    });
    legacy = await createLegacyDatabase('postgres', [CAROL]);
    store = await createPostgresDatabase();
    // 25 sign-ins queue for each instance's few isolates; on a busy machine the last would meet
    // the 10 s default deadline, and what is tested here is the account, not the wait.
    const connection = {
      enabled: true,
      mode: 'LAZY_MIGRATION' as const,
      env: { DB_CONNECTION_URI: legacy.url },
      scriptsDir: join(TEMPLATES, 'postgres'),
      limits: { timeoutMs: 60_000 },
    };
    instances = [await startFerry({ databaseUrl: store.url, connection }), await startFerry({ databaseUrl: store.url, connection })];
  });

  after(async () => {
    for (const ferry of instances) await ferry.stop();
    await store?.drop();
    await legacy?.drop();
    for (const ferry of instances) removeDataDir(ferry.dataDir);
  });

  it('makes exactly one account when 50 first sign-ins of one user race, half on each instance', async () => {
    const configs = await Promise.all(instances.map((ferry) => relyingParty(ferry)));
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, (_, i) =>
        signIn(instances[i % 2]!, configs[i % 2]!, new Browser(), i % 3 === 0 ? 'carol' : 'carol@example.com', CAROL.password),
      ),
    );
    const failures = results.filter((result) => result.status === 'rejected');
    assert.equal(failures.length, 0, `every sign-in succeeded: ${failures.map((f) => String((f as PromiseRejectedResult).reason)).join('\n')}`);
    const subs = new Set(results.map((result) => (result as PromiseFulfilledResult<Awaited<ReturnType<typeof signIn>>>).value.claims()!.sub));
    const [row] = await legacy.query('select id from users where email = $1', [CAROL.email]);
    assert.deepEqual([...subs], [String(row!.id)], 'one subject, the legacy id');

    const { rows } = await instances[0]!.ferry.db.query<{ n: number; legacy: number }>(
      "select count(*)::int as n, count(distinct legacy_id)::int as legacy from accounts where email = 'carol@example.com' or username = 'carol'",
    );
    assert.deepEqual(rows[0], { n: 1, legacy: 1 }, 'one account, guaranteed by the database');
    const { rows: failed } = await instances[0]!.ferry.db.query<{ n: number }>('select count(*)::int as n from migration_failures');
    assert.equal(failed[0]!.n, 0, 'no race was taken for a conflict');

    // The race was real: several sign-ins on each instance verified carol in legacy and tried to
    // migrate her; the database let one INSERT through and the others found that account.
    const migrations = await Promise.all(instances.map(async (ferry) => await (await fetch(`${ferry.issuer}/metrics`)).text()));
    const count = (metrics: string, result: string) => Number(new RegExp(`ferry_migrations_total\\{result="${result}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    const created = migrations.reduce((sum, metrics) => sum + count(metrics, 'created'), 0);
    const existing = migrations.map((metrics) => count(metrics, 'existing'));
    assert.equal(created, 1);
    assert.ok(
      existing.every((n) => n >= 1),
      `each instance lost a race at least once: ${existing.join(', ')}`,
    );
  });
});
