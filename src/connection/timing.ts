import { setTimeout as sleep } from 'node:timers/promises';

const WINDOW = 100;
const PERCENTILE = 0.9;

/** Who checked a password: Ferry's own accounts (argon2) or the legacy `login` script (bcrypt, mostly). */
export type SignInPath = 'local' | 'legacy';

/**
 * Makes every failed sign-in take as long as a real password check. It learns, per path, how long
 * successful checks take (a typing attacker cannot make those faster) and holds each failure until
 * the 90th percentile of the slowest path the sign-in could have taken has passed. One floor for
 * both paths would not do: once most sign-ins are fast local argon2 checks, it drops below the
 * legacy script's bcrypt compare, and a wrong password of an unmigrated user (bcrypt ran) answers
 * later than an unknown user (the script found nobody).
 */
export function createFailureFloor(options: { initialMs?: number; minMs?: number; maxMs?: number } = {}) {
  const samples: Record<SignInPath, number[]> = { local: [], legacy: [] };
  const initial = options.initialMs ?? 250;
  const min = options.minMs ?? 50;
  const max = options.maxMs ?? 3000;

  const floorOf = (path: SignInPath): number => {
    const seen = samples[path];
    if (seen.length < 5) return initial;
    const sorted = [...seen].sort((a, b) => a - b);
    const value = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * PERCENTILE))]!;
    return Math.min(max, Math.max(min, value));
  };

  /** The floor for a failure that could have gone down any of `paths`: the largest of theirs. */
  const floor = (paths: readonly SignInPath[] = ['local', 'legacy']): number => Math.max(...paths.map(floorOf));

  return {
    floor,
    /** Records how long a successful check along `path` took. */
    observe(path: SignInPath, durationMs: number): void {
      const seen = samples[path];
      seen.push(durationMs);
      if (seen.length > WINDOW) seen.shift();
    },
    /** Waits until `startedAt` + the floor of `paths` (with a little jitter) has passed. */
    async pad(startedAt: number, paths: readonly SignInPath[]): Promise<void> {
      const wait = startedAt + floor(paths) + Math.random() * 10 - performance.now();
      if (wait > 0) await sleep(wait);
    },
  };
}

export type FailureFloor = ReturnType<typeof createFailureFloor>;
