import type { ConnectionParts } from '../connection/index.ts';
import type { Mail } from '../mail/index.ts';
import type { Sandbox } from '../sandbox/index.ts';
import type { Database } from '../store/db.ts';
import { BREAKER_STATE_VALUE, type Metrics } from './metrics.ts';

/**
 * Sets the gauges a scrape reads (store pool, isolates, sandbox processes, legacy driver pools,
 * scripts running, the breaker, the mail outbox) from the parts as they are now; called by
 * /metrics before it renders.
 */
export function createGaugeSampler(deps: {
  metrics: Metrics;
  db: Pick<Database, 'poolStats'>;
  sandbox: Pick<Sandbox, 'stats' | 'broken' | 'processStats' | 'connectionStats'>;
  connection: Pick<ConnectionParts, 'settings' | 'runner'>;
  mail: Pick<Mail, 'sampleGauges'>;
}) {
  const { metrics, db, sandbox, connection, mail } = deps;
  return async (): Promise<void> => {
    // First, before this scrape waits for a connection of its own.
    const storePool = db.poolStats?.();
    if (storePool) for (const [state, value] of Object.entries(storePool)) metrics.storePool.set({ state }, value);
    for (const pool of Object.values(sandbox.stats())) {
      metrics.isolates.set({ state: 'alive' }, pool.alive);
      metrics.isolates.set({ state: 'idle' }, pool.idle);
      metrics.isolates.set({ state: 'waiting' }, pool.waiting);
    }
    metrics.sandboxBroken.set(sandbox.broken ? 1 : 0);
    const processes = sandbox.processStats();
    if (processes) {
      metrics.sandboxProcesses.set({ state: 'ready' }, processes.ready);
      metrics.sandboxProcesses.set({ state: 'starting' }, processes.starting);
      for (const [reason, count] of Object.entries(processes.restarts)) metrics.sandboxProcessRestarts.set({ reason }, count);
    }
    for (const [driver, stats] of Object.entries(sandbox.connectionStats())) {
      for (const [state, value] of Object.entries(stats)) metrics.legacyPool.set({ driver, state }, value);
    }
    const settings = await connection.settings.current();
    const status = connection.runner.status(settings);
    metrics.scriptsRunning.set({ state: 'running' }, status.running);
    metrics.scriptsRunning.set({ state: 'waiting' }, status.waiting);
    // The breaker of the settings as they are now (a settings change starts a new one).
    metrics.breaker.reset();
    metrics.breaker.set({ connection: settings.id }, BREAKER_STATE_VALUE[status.breaker]);
    await mail.sampleGauges();
  };
}
