import type { OidcModelQueries } from '../store/queries/oidc-models.ts';
import { requestState } from '../store/request-scope.ts';

/**
 * Writes that wait for the end of their request and then go to the store in one statement. Only
 * two requests defer: the resume after a sign-in (`GET /auth/:uid`: the interaction deleted, the
 * grant, the authorization code and the session written) and the token endpoint (`POST /token`: the access
 * and refresh tokens). Both answer through Koa, which sends the response only after the
 * middleware that flushes (memoiseReadsPerRequest in adapter.ts) has finished, so nothing is
 * answered before it is stored; a flush that fails turns the answer into an error. Within the
 * request, reads see the deferred writes (the adapter remembers them), and any write that is not
 * deferred first flushes what waits, so the store sees the writes in their order.
 */
export type DeferredWrite =
  | { kind: 'upsert'; model: string; id: string; payload: Record<string, unknown>; expiresIn: number | undefined }
  | { kind: 'destroy'; model: string; id: string };

const QUEUE = 'oidc-writes';
const DEFERRING = 'oidc-deferring';
/** Set on the token endpoint: codes and refresh tokens are consumed as they are read (adapter.ts). */
const TOKEN_ENDPOINT = 'oidc-token-endpoint';
/** Set on the resume after a sign-in: the interaction is read with its remembered grant (adapter.ts). */
const RESUME = 'oidc-resume';

/** Upserts of these models, and deletions of these, wait for the end of a deferring request. */
const DEFERRED_UPSERTS = new Set(['Grant', 'AuthorizationCode', 'Session', 'AccessToken', 'RefreshToken']);
const DEFERRED_DESTROYS = new Set(['Interaction', 'Session']);

interface Queue {
  writes: Map<string, DeferredWrite>;
  flush(): Promise<void>;
}

/** Marks the request as one that defers (the resume, the token endpoint); called by the middleware. */
export function deferWritesOf(method: string, path: string): void {
  const state = requestState();
  if (!state) return;
  const resume = method === 'GET' && /^\/auth\/[A-Za-z0-9_-]+$/.test(path);
  const token = method === 'POST' && path === '/token';
  if (resume || token) state.set(DEFERRING, true);
  if (token) state.set(TOKEN_ENDPOINT, true);
  if (resume) state.set(RESUME, true);
}

export const atTokenEndpoint = (): boolean => requestState()?.get(TOKEN_ENDPOINT) === true;
export const atResume = (): boolean => requestState()?.get(RESUME) === true;

/** Queues `write` when this request defers it; false when it must be written now. */
export function deferred(queries: OidcModelQueries, write: DeferredWrite): boolean {
  const state = requestState();
  if (state?.get(DEFERRING) !== true) return false;
  if (!(write.kind === 'upsert' ? DEFERRED_UPSERTS : DEFERRED_DESTROYS).has(write.model)) return false;
  let queue = state.get(QUEUE) as Queue | undefined;
  if (!queue) {
    const writes = new Map<string, DeferredWrite>();
    queue = {
      writes,
      async flush() {
        if (writes.size === 0) return;
        const all = [...writes.values()];
        writes.clear();
        await queries.writeAll(
          all.filter((item) => item.kind === 'upsert'),
          all.filter((item) => item.kind === 'destroy'),
        );
      },
    };
    state.set(QUEUE, queue);
  }
  // The last write of a row is the one that counts.
  queue.writes.delete(`${write.model}\0${write.id}`);
  queue.writes.set(`${write.model}\0${write.id}`, write);
  return true;
}

/** Writes what this request deferred (before a write that is not deferred, and at its end). */
export async function flushDeferred(): Promise<void> {
  await (requestState()?.get(QUEUE) as Queue | undefined)?.flush();
}
