import type { Execution } from '../execution.ts';

/** A host operation the isolate may call: `args` are copies, already out of the isolate. */
export type OpHandler = (execution: Execution, args: unknown[]) => unknown;

/** `sync` operations answer synchronously (URL parsing); the rest return promises. */
export interface Op {
  handler: OpHandler;
  sync?: boolean;
}

export type OpTable = Record<string, Op>;

export const op = (handler: OpHandler): Op => ({ handler });
export const syncOp = (handler: OpHandler): Op => ({ handler, sync: true });
