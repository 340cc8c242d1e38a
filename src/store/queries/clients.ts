import type { Queryable } from '../db.ts';

export type ClientMetadataRow = Record<string, unknown>;

/** A stored relying party as listings see it: never its secret. */
export interface ClientRow {
  client_id: string;
  metadata: ClientMetadataRow;
  has_secret: boolean;
  disabled: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'client_id, metadata, client_secret_sha256 is not null as has_secret, disabled, created_at, updated_at';

/** SQL for relying parties kept in Ferry's database (src/store/migrations/013_clients.sql). */
export function createClientQueries(db: Queryable) {
  return {
    async list(): Promise<ClientRow[]> {
      const { rows } = await db.query<ClientRow>(`select ${COLUMNS} from clients order by created_at, client_id`);
      return rows;
    },

    async get(clientId: string): Promise<ClientRow | undefined> {
      const { rows } = await db.query<ClientRow>(`select ${COLUMNS} from clients where client_id = $1`, [clientId]);
      return rows[0];
    },

    /** An enabled client's metadata and the SHA-256 of its secret (base64url); nothing for a disabled one. */
    async findEnabled(clientId: string): Promise<{ metadata: ClientMetadataRow; secretSha256: string | null } | undefined> {
      const { rows } = await db.query<{ metadata: ClientMetadataRow; client_secret_sha256: string | null }>(
        'select metadata, client_secret_sha256 from clients where client_id = $1 and not disabled',
        [clientId],
      );
      const row = rows[0];
      return row ? { metadata: row.metadata, secretSha256: row.client_secret_sha256 } : undefined;
    },

    /** False when the client id is taken. */
    async insert(clientId: string, metadata: ClientMetadataRow, secretSha256: string | null): Promise<boolean> {
      const { rows } = await db.query(
        `insert into clients (client_id, metadata, client_secret_sha256) values ($1, $2::jsonb, $3)
         on conflict (client_id) do nothing returning client_id`,
        [clientId, JSON.stringify(metadata), secretSha256],
      );
      return rows.length === 1;
    },

    /** Replaces the metadata; `secretSha256` undefined keeps the stored one, null removes it. False when there is no such client. */
    async update(clientId: string, metadata: ClientMetadataRow, secretSha256: string | null | undefined): Promise<boolean> {
      const { rows } = await db.query(
        `update clients set metadata = $2::jsonb, client_secret_sha256 = case when $4 then $3 else client_secret_sha256 end, updated_at = now()
         where client_id = $1 returning client_id`,
        [clientId, JSON.stringify(metadata), secretSha256 ?? null, secretSha256 !== undefined],
      );
      return rows.length === 1;
    },

    async setSecret(clientId: string, secretSha256: string): Promise<boolean> {
      const { rows } = await db.query('update clients set client_secret_sha256 = $2, updated_at = now() where client_id = $1 returning client_id', [
        clientId,
        secretSha256,
      ]);
      return rows.length === 1;
    },

    async setDisabled(clientId: string, disabled: boolean): Promise<boolean> {
      const { rows } = await db.query('update clients set disabled = $2, updated_at = now() where client_id = $1 returning client_id', [clientId, disabled]);
      return rows.length === 1;
    },

    async delete(clientId: string): Promise<boolean> {
      const { rows } = await db.query('delete from clients where client_id = $1 returning client_id', [clientId]);
      return rows.length === 1;
    },
  };
}

export type ClientQueries = ReturnType<typeof createClientQueries>;
