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

const COLUMNS = 'client_id, metadata, client_secret is not null as has_secret, disabled, created_at, updated_at';

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

    /** What oidc-provider gets for an enabled client: its metadata with client_id and client_secret; nothing for a disabled one. */
    async findEnabled(clientId: string): Promise<ClientMetadataRow | undefined> {
      const { rows } = await db.query<{ metadata: ClientMetadataRow; client_secret: string | null }>(
        'select metadata, client_secret from clients where client_id = $1 and not disabled',
        [clientId],
      );
      const row = rows[0];
      if (!row) return undefined;
      return { ...row.metadata, client_id: clientId, ...(row.client_secret === null ? {} : { client_secret: row.client_secret }) };
    },

    /** False when the client id is taken. */
    async insert(clientId: string, metadata: ClientMetadataRow, secret: string | null): Promise<boolean> {
      const { rows } = await db.query(
        `insert into clients (client_id, metadata, client_secret) values ($1, $2::jsonb, $3)
         on conflict (client_id) do nothing returning client_id`,
        [clientId, JSON.stringify(metadata), secret],
      );
      return rows.length === 1;
    },

    /** Replaces the metadata; `secret` undefined keeps the stored one, null removes it. False when there is no such client. */
    async update(clientId: string, metadata: ClientMetadataRow, secret: string | null | undefined): Promise<boolean> {
      const { rows } = await db.query(
        `update clients set metadata = $2::jsonb, client_secret = case when $4 then $3 else client_secret end, updated_at = now()
         where client_id = $1 returning client_id`,
        [clientId, JSON.stringify(metadata), secret ?? null, secret !== undefined],
      );
      return rows.length === 1;
    },

    async setSecret(clientId: string, secret: string): Promise<boolean> {
      const { rows } = await db.query('update clients set client_secret = $2, updated_at = now() where client_id = $1 returning client_id', [clientId, secret]);
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
