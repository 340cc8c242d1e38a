import type { Execution } from '../execution.ts';
import type { OpGroupName, OpName } from '../op-names.ts';

/** A host operation the isolate may call: `args` are copies, already out of the isolate. */
export type OpHandler = (execution: Execution, args: unknown[]) => unknown;

/** `sync` operations answer synchronously (URL parsing); the rest return promises. */
export interface Op {
  handler: OpHandler;
  sync?: boolean;
}

export type OpTable = Record<string, Op>;

/** Exactly the operations of one group of ../op-names.ts: one missing, or one not named there, fails tsc. */
export type OpGroup<G extends OpGroupName> = Record<OpName<G>, Op>;

export const op = (handler: OpHandler): Op => ({ handler });
export const syncOp = (handler: OpHandler): Op => ({ handler, sync: true });
