import { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';

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
      await queries.upsert(this.model, id, payload as Record<string, unknown>, expiresIn || undefined);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      return (await queries.find(this.model, id)) as AdapterPayload | undefined;
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return (await queries.findByUid(this.model, uid)) as AdapterPayload | undefined;
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
      const first = await queries.consume(this.model, id);
      if (first || !SINGLE_USE_GRANTS.has(this.model)) return;
      const grantId = await queries.grantIdOf(this.model, id);
      if (grantId) await queries.revokeGrant(grantId);
      throw new errors.InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      await queries.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await queries.revokeByGrantId(grantId);
    }
  };
}
