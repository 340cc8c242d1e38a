import { AsyncLocalStorage } from 'node:async_hooks';
import type { Middleware } from 'koa';
import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';

/**
 * Reads memoised for the length of one HTTP request. oidc-provider (and Ferry's pages around it)
 * look the same interaction, session or grant up several times while handling one request; each
 * look-up after the first is served from here. A write forgets what it could change (the row,
 * and its model's look-ups by uid; everything for a grant revocation), and nothing outlives the
 * request, so other requests and other instances always read the database.
 */
const requestReads = new AsyncLocalStorage<Map<string, Promise<AdapterPayload | undefined>>>();

export const memoiseReadsPerRequest: Middleware = (_ctx, next) => requestReads.run(new Map(), next);

function memoised(key: string, read: () => Promise<AdapterPayload | undefined>): Promise<AdapterPayload | undefined> {
  const reads = requestReads.getStore();
  if (!reads) return read();
  let pending = reads.get(key);
  if (!pending) {
    pending = read();
    reads.set(key, pending);
  }
  // Each caller gets its own copy: oidc-provider builds models from payloads and may change them.
  return pending.then((payload) => (payload ? structuredClone(payload) : undefined));
}

function forgetReads(model?: string, id?: string): void {
  const reads = requestReads.getStore();
  if (!reads) return;
  if (model === undefined) {
    reads.clear();
    return;
  }
  reads.delete(`${model}\0${id}`);
  for (const key of reads.keys()) if (key.startsWith(`${model}\0uid\0`)) reads.delete(key);
}

/** Models redeemed at the token endpoint, where a second use means a stolen or replayed grant. */
const SINGLE_USE_GRANTS = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/**
 * oidc-provider's storage adapter over Ferry's database: one table for every model, so sessions,
 * grants, codes and tokens survive restarts and are shared by every instance on one PostgreSQL.
 */
export function createAdapterClass(queries: OidcModelQueries) {
  return class StoreAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      forgetReads(this.model, id);
      await queries.upsert(this.model, id, payload as Record<string, unknown>, expiresIn || undefined);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return memoised(`${this.model}\0${id}`, async () => (await queries.find(this.model, id)) as AdapterPayload | undefined);
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return memoised(`${this.model}\0uid\0${uid}`, async () => (await queries.findByUid(this.model, uid)) as AdapterPayload | undefined);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return (await queries.findByUserCode(this.model, userCode)) as AdapterPayload | undefined;
    }

    /**
     * oidc-provider reads a code or refresh token, checks `consumed`, and only then consumes it, so
     * concurrent requests carrying the same one all pass the check. The database decides which
     * came first; the others are a second use, answered as oidc-provider answers one: the grant and
     * every token issued under it are revoked and the request fails with invalid_grant.
     */
    async consume(id: string): Promise<void> {
      forgetReads(this.model, id);
      const first = await queries.consume(this.model, id);
      if (first || !SINGLE_USE_GRANTS.has(this.model)) return;
      const grantId = await queries.grantIdOf(this.model, id);
      if (grantId) await queries.revokeGrant(grantId);
      throw new errors.InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      forgetReads(this.model, id);
      await queries.destroy(this.model, id);
    }

    /**
     * oidc-provider revokes a grant through every token model's adapter at once; the DELETE is not
     * per model, so within one request the first call does it and the others wait for it.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      const reads = requestReads.getStore();
      const key = `revoke\0${grantId}`;
      const running = reads?.get(key);
      if (running) {
        await running;
        return;
      }
      forgetReads();
      const revoking = queries.revokeByGrantId(grantId).then(() => undefined);
      reads?.set(key, revoking);
      try {
        await revoking;
      } finally {
        if (reads?.get(key) === revoking) reads.delete(key);
      }
    }
  };
}
