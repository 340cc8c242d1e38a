import type { Queryable } from '../db.ts';

export interface SigningKeyRow {
  kid: string;
  jwk: Record<string, unknown>;
  created_at: Date;
  retired_at: Date | null;
}

/** SQL for signing keys and the shared settings table. */
export function createKeyQueries(db: Queryable) {
  return {
    /** Active keys first, newest first; retired keys are kept (published) until they are deleted. */
    async listSigningKeys(): Promise<SigningKeyRow[]> {
      const { rows } = await db.query<SigningKeyRow>(
        'select kid, jwk, created_at, retired_at from signing_keys order by retired_at is not null, created_at desc',
      );
      return rows;
    },

    async insertSigningKey(kid: string, jwk: Record<string, unknown>): Promise<void> {
      await db.query('insert into signing_keys (kid, jwk) values ($1, $2::jsonb) on conflict (kid) do nothing', [kid, JSON.stringify(jwk)]);
    },

    async retireSigningKeys(exceptKids: readonly string[]): Promise<number> {
      const { rowCount } = await db.query('update signing_keys set retired_at = now() where retired_at is null and not (kid = any($1::text[]))', [exceptKids]);
      return rowCount;
    },

    async deleteRetiredBefore(before: Date): Promise<number> {
      const { rowCount } = await db.query('delete from signing_keys where retired_at < $1', [before]);
      return rowCount;
    },

    async getSetting<T>(key: string): Promise<T | undefined> {
      const { rows } = await db.query<{ value: T }>('select value from settings where key = $1', [key]);
      return rows[0]?.value;
    },

    /** Stores `value` unless the key already exists, and returns whichever value is stored. */
    async putSettingIfAbsent<T>(key: string, value: T): Promise<T> {
      await db.query('insert into settings (key, value) values ($1, $2::jsonb) on conflict (key) do nothing', [key, JSON.stringify(value)]);
      const { rows } = await db.query<{ value: T }>('select value from settings where key = $1', [key]);
      return rows[0]!.value;
    },

    async putSetting<T>(key: string, value: T): Promise<void> {
      await db.query('insert into settings (key, value) values ($1, $2::jsonb) on conflict (key) do update set value = excluded.value, updated_at = now()', [
        key,
        JSON.stringify(value),
      ]);
    },
  };
}

export type KeyQueries = ReturnType<typeof createKeyQueries>;
