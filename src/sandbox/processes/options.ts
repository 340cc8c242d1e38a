/** How many sandbox processes, and the bounds each is held to. */
export interface ProcessOptions {
  /** Sandbox processes kept running. */
  count: number;
  /** A process whose resident memory passes this is replaced. */
  maxRssMb: number;
  /** The V8 heap of each process's own Node isolate (--max-old-space-size); isolates' heaps are apart. */
  heapMb: number;
  /**
   * A ready process silent this long (no heartbeat, every 200 ms) is replaced. Default 5000: well
   * above the pauses a busy 2-core machine gives a healthy process (up to about a second seen).
   */
  unresponsiveMs?: number;
}

/**
 * The sandbox options for the configuration's sandbox keys: `poolSize` isolates in all, shared out
 * among the processes (each keeps at least 2, so one slow script does not hold a process's only one).
 */
export function sandboxProcessOptions(
  config: { sandboxProcesses: number; sandboxProcessMaxRssMb: number; sandboxProcessHeapMb: number },
  poolSize: number,
): { poolSize: number; processes?: ProcessOptions } {
  const count = config.sandboxProcesses;
  if (count === 0) return { poolSize };
  return {
    poolSize: Math.max(2, Math.ceil(poolSize / count)),
    processes: { count, maxRssMb: config.sandboxProcessMaxRssMb, heapMb: config.sandboxProcessHeapMb },
  };
}
