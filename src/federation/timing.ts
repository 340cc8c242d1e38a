import { setTimeout as sleep } from 'node:timers/promises';

const WINDOW = 100;
const PERCENTILE = 0.9;

/**
 * Makes every failed sign-in take as long as a real password check. It learns how long successful
 * checks take (local argon2 or a legacy script with bcrypt: a typing attacker cannot make those
 * faster) and holds each failure until the 90th percentile of that has passed, so "no such user"
 * answers as slowly as "wrong password".
 */
export function createFailureFloor(options: { initialMs?: number; minMs?: number; maxMs?: number } = {}) {
  const samples: number[] = [];
  const initial = options.initialMs ?? 250;
  const min = options.minMs ?? 50;
  const max = options.maxMs ?? 3000;

  const floor = (): number => {
    if (samples.length < 5) return initial;
    const sorted = [...samples].sort((a, b) => a - b);
    const value = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * PERCENTILE))]!;
    return Math.min(max, Math.max(min, value));
  };

  return {
    floor,
    /** Records how long a successful check took. */
    observe(durationMs: number): void {
      samples.push(durationMs);
      if (samples.length > WINDOW) samples.shift();
    },
    /** Waits until `startedAt` + the floor (with a little jitter) has passed. */
    async pad(startedAt: number): Promise<void> {
      const wait = startedAt + floor() + Math.random() * 10 - performance.now();
      if (wait > 0) await sleep(wait);
    },
  };
}

export type FailureFloor = ReturnType<typeof createFailureFloor>;
