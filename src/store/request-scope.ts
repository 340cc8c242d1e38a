import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one HTTP request has read from Ferry's database, kept for the length of that request.
 * oidc-provider and Ferry's pages look the same interaction, session, grant or account up several
 * times while handling one request; each look-up after the first is served from here. A write
 * forgets what it could change, and nothing outlives the request, so other requests and other
 * instances always read the database. Outside a request (timers, the CLI) nothing is kept.
 */
interface Scope {
  reads: Map<string, Promise<unknown>>;
  /** What a part keeps for the rest of the request that is not a read (forget() leaves it). */
  state: Map<string, unknown>;
}
const store = new AsyncLocalStorage<Scope>();
const scope = { getStore: () => store.getStore()?.reads };

/** Runs `fn` (a request) with its own, empty, memory of reads. */
export function withRequestScope<T>(fn: () => T): T {
  return store.run({ reads: new Map(), state: new Map() }, fn);
}

/** The request's own state (a part's queue, a flag), or undefined outside a request. */
export function requestState(): Map<string, unknown> | undefined {
  return store.getStore()?.state;
}

/** `read()` once per request for `key`; every caller gets its own copy (callers may change what they get). */
export function readOnce<T>(key: string, read: () => Promise<T | undefined>): Promise<T | undefined> {
  const reads = scope.getStore();
  if (!reads) return read();
  let pending = reads.get(key) as Promise<T | undefined> | undefined;
  if (!pending) {
    pending = read();
    reads.set(key, pending);
    // A failed read is not remembered: the next caller tries again.
    pending.catch(() => reads.get(key) === pending && reads.delete(key));
  }
  return pending.then((value) => (value === undefined ? undefined : structuredClone(value)));
}

/** Remembers for this request what another query has just returned, so a later read of `key` is not a second query. */
export function remember(key: string, value: unknown): void {
  scope.getStore()?.set(key, Promise.resolve(value));
}

/** What this request remembers under `key`, if anything (a copy). */
export async function remembered<T>(key: string): Promise<T | undefined> {
  const pending = scope.getStore()?.get(key) as Promise<T | undefined> | undefined;
  const value = pending ? await pending.catch(() => undefined) : undefined;
  return value === undefined ? undefined : structuredClone(value);
}

/** Forgets the keys starting with `prefix` (everything without one). */
export function forget(prefix = ''): void {
  const reads = scope.getStore();
  if (!reads) return;
  if (prefix === '') {
    reads.clear();
    return;
  }
  for (const key of reads.keys()) if (key.startsWith(prefix)) reads.delete(key);
}

/** The request's memory itself, for a part that coordinates within one request (a revocation several adapters ask for). */
export function requestMemory(): Map<string, Promise<unknown>> | undefined {
  return scope.getStore();
}
