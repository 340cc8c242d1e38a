import type { Logger } from '../log.ts';

export interface BatchWriterOptions<T> {
  /** Writes one batch (one statement). A failure is logged and the batch dropped: the log must not take a request down. */
  write(batch: T[]): Promise<void>;
  log: Logger;
  /** What the records are, for the warnings ("could not write <what>"). */
  what: string;
  /** The warning when the buffer is full and records are dropped. */
  fullMessage?: string;
  flushEveryMs?: number;
  flushAt?: number;
  maxBuffered?: number;
}

/**
 * Records buffered and written in batches off the request path (a crash loses at most
 * `flushEveryMs` of them), for the script execution log and the audit log: `flush()` writes everything buffered, including what arrives while a batch is
 * being written, and `close()` stops the timer and flushes (compose.ts's shutdown order).
 */
export function createBatchWriter<T>(options: BatchWriterOptions<T>) {
  const { write, log, what, flushEveryMs = 250, flushAt = 200, maxBuffered = 5000, fullMessage = `${what}: buffer full; records dropped` } = options;
  let buffer: T[] = [];
  let flushing: Promise<void> | undefined;
  let dropped = 0;

  const flush = async (): Promise<void> => {
    while (flushing || buffer.length > 0) {
      if (!flushing) {
        const batch = buffer;
        buffer = [];
        flushing = write(batch)
          .catch((error: unknown) => log.warn({ err: error, records: batch.length }, `could not write ${what}`))
          .finally(() => (flushing = undefined));
      }
      await flushing;
    }
  };

  const timer = setInterval(() => void flush(), flushEveryMs);
  timer.unref();

  return {
    add(record: T): void {
      if (buffer.length >= maxBuffered) {
        dropped += 1;
        if (dropped % 1000 === 1) log.warn({ dropped }, fullMessage);
        return;
      }
      buffer.push(record);
      if (buffer.length >= flushAt) void flush();
    },
    flush,
    async close(): Promise<void> {
      clearInterval(timer);
      await flush();
    },
  };
}
