import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';

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

    async consume(id: string): Promise<void> {
      await queries.consume(this.model, id);
    }

    async destroy(id: string): Promise<void> {
      await queries.destroy(this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await queries.revokeByGrantId(grantId);
    }
  };
}
