/** Runs `task` from `concurrency` loops for `durationMs` (after a short warm-up) and reports throughput and latency. */
export interface Measurement {
  ops: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  firstError?: string;
  /** Tasks started, warm-up included (each login of a `unique` run takes a new user). */
  started: number;
}

export async function measure(
  task: (i: number, loop: number) => Promise<unknown>,
  options: {
    concurrency: number;
    durationMs: number;
    warmupMs?: number;
    maxOps?: number;
    /** Called after the warm-up, when nothing is in flight, just before the measured run. */
    beforeRun?: () => Promise<void>;
  },
): Promise<Measurement> {
  let counter = 0;
  const limit = options.maxOps ?? Infinity;
  const run = async (loop: number, until: number, latencies: number[] | undefined, failures: string[]) => {
    while (performance.now() < until && counter < limit) {
      const started = performance.now();
      try {
        await task(counter++, loop);
        latencies?.push(performance.now() - started);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  const warm: string[] = [];
  if (options.warmupMs) {
    const until = performance.now() + options.warmupMs;
    await Promise.all(Array.from({ length: options.concurrency }, (_, loop) => run(loop, until, undefined, warm)));
  }
  await options.beforeRun?.();
  const latencies: number[] = [];
  const failures: string[] = [];
  const started = performance.now();
  const until = started + options.durationMs;
  await Promise.all(Array.from({ length: options.concurrency }, (_, loop) => run(loop, until, latencies, failures)));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN;
  return {
    ops: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    errors: failures.length,
    ...(failures.length ? { firstError: failures[0] } : {}),
    started: counter,
  };
}
