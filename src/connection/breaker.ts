import type { FailureKind } from '../sandbox/index.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

/**
 * A circuit breaker for one connection's legacy database. Closed: scripts run. After
 * `failureThreshold` consecutive unavailable or timed-out executions it opens: scripts are not run
 * and callers answer "temporarily unavailable" at once instead of waiting for deadlines. After
 * `openMs` one execution is let through as a probe (half-open): success closes it, failure opens
 * it again. Script errors (a wrong password) count as the database answering.
 */
export function createBreaker(options: { failureThreshold: number; openMs: number }) {
  let state: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let probing = false;

  return {
    get state(): BreakerState {
      return state;
    },

    /** Whether an execution may run now; in half-open state only one (the probe) may. */
    allow(): boolean {
      if (state === 'closed') return true;
      if (state === 'open') {
        if (Date.now() - openedAt < options.openMs) return false;
        state = 'half_open';
      }
      if (probing) return false;
      probing = true;
      return true;
    },

    /** An allowed execution did not run after all: it gives no verdict, and the probe slot frees. */
    abandon(): void {
      if (state === 'half_open') probing = false;
    },

    record(kind: FailureKind | 'ok'): void {
      const down = kind === 'unavailable' || kind === 'timeout';
      if (state === 'half_open') probing = false;
      if (!down) {
        failures = 0;
        state = 'closed';
        return;
      }
      failures += 1;
      if (state === 'half_open' || failures >= options.failureThreshold) {
        openedAt = Date.now();
        state = 'open';
      }
    },
  };
}

export type Breaker = ReturnType<typeof createBreaker>;

/** At most `max` holders at once; others wait in order until a place frees or their deadline passes. */
export function createLimiter(max: number) {
  let active = 0;
  const queue: { grant(): void; timer: NodeJS.Timeout }[] = [];
  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire(deadline: number): Promise<boolean> {
      if (active < max) {
        active += 1;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        const entry = {
          grant: () => {
            clearTimeout(entry.timer);
            resolve(true);
          },
          timer: setTimeout(
            () => {
              queue.splice(queue.indexOf(entry), 1);
              resolve(false);
            },
            Math.max(1, deadline - Date.now()),
          ),
        };
        queue.push(entry);
      });
    },
    release(): void {
      const next = queue.shift();
      if (next) next.grant();
      else active -= 1;
    },
  };
}
