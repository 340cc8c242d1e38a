import ivm from 'isolated-vm';
import type { Execution } from '../execution.ts';
import { bcryptOps } from './bcrypt.ts';
import { cryptoOps } from './crypto.ts';
import type { DriverPools } from './driver-pools.ts';
import { safeBridgeError } from './errors.ts';
import { httpOps } from './http.ts';
import { mongodbOps } from './mongodb.ts';
import { mssqlOps } from './mssql.ts';
import { mysqlOps } from './mysql.ts';
import { pgOps } from './pg.ts';
import { runtimeOps } from './runtime.ts';
import type { OpName } from '../op-names.ts';
import type { Op, OpTable } from './types.ts';

export type { OpTable } from './types.ts';
export { createDriverPools, type DriverPools } from './driver-pools.ts';
export { storeAddress, type EgressPolicy, type StoreAddress } from './egress.ts';

/** Every host operation the isolate's runtime and modules may call. */
export function createOpTable(options: { pools: DriverPools; overrides?: OpTable }): OpTable {
  // Every group of ../op-names.ts, so that a group left out here fails tsc.
  const table: Record<OpName, Op> = {
    ...runtimeOps(),
    ...pgOps(options.pools),
    ...mysqlOps(options.pools),
    ...mongodbOps(options.pools),
    ...mssqlOps(),
    ...httpOps(),
    ...bcryptOps(),
    ...cryptoOps(),
  };
  return { ...table, ...options.overrides };
}

/** A result for applySyncPromise, copied here so that a value that cannot be copied becomes an error result, not a throw. */
function copyForBlocking(result: unknown) {
  try {
    return new ivm.ExternalCopy(result).copyInto();
  } catch {
    return new ivm.ExternalCopy({ ok: false, error: { message: 'The operation returned a value that cannot be passed to the script.' } }).copyInto();
  }
}

/** The four ways the isolate calls the host; see `callSync` and friends in isolate/runtime/bridge.js. */
type Mode = 'async' | 'sync' | 'blocking' | 'ignored';

/**
 * The one host function a context can reach (through a Reference hidden in the runtime's
 * closure). It routes to the execution currently bound to the context; after the execution ends
 * every call is refused. It never throws: results and errors go back as `{ ok, value | error }`.
 */
export function createDispatcher(ops: OpTable, current: () => Execution | undefined) {
  return (mode: Mode, name: string, args: unknown) => {
    const execution = current();
    const operation = typeof name === 'string' && Object.hasOwn(ops, name) ? ops[name] : undefined;
    const list = Array.isArray(args) ? args : [];
    if (!execution || !operation) {
      const error = { ok: false as const, error: { message: execution ? `Unknown operation ${String(name)}` : 'The execution has ended.' } };
      return mode === 'blocking' ? Promise.resolve(new ivm.ExternalCopy(error).copyInto()) : mode === 'sync' ? error : Promise.resolve(error);
    }
    if (mode === 'sync') {
      if (!operation.sync) return { ok: false, error: { message: `${name} cannot be called synchronously` } };
      try {
        return { ok: true, value: operation.handler(execution, list) };
      } catch (error) {
        return { ok: false, error: { ...safeBridgeError(error, execution.secrets), name: 'TypeError' } };
      }
    }
    const result = execution.run(() => operation.handler(execution, list), mode !== 'ignored');
    if (mode === 'blocking') return result.then(copyForBlocking);
    if (mode === 'ignored') return undefined;
    return result;
  };
}
