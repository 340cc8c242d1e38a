import type { Queryable } from '../db.ts';

export interface TotpFactor {
  secret: string;
  confirmed: boolean;
}

/** SQL for second factors (TOTP) and recovery codes, keyed by subject. */
export function createSecondFactorQueries(db: Queryable) {
  return {
    async totp(sub: string): Promise<TotpFactor | undefined> {
      const { rows } = await db.query<{ secret: string; confirmed: boolean }>(
        `select secret, confirmed_at is not null as confirmed from second_factors where sub = $1 and kind = 'totp'`,
        [sub],
      );
      return rows[0];
    },

    /** A new, unconfirmed secret; a confirmed factor is never replaced this way. False when one is confirmed. */
    async beginTotp(sub: string, secret: string): Promise<boolean> {
      const { rowCount } = await db.query(
        `insert into second_factors (sub, kind, secret) values ($1, 'totp', $2)
         on conflict (sub, kind) do update set secret = excluded.secret, created_at = now(), last_step = null
         where second_factors.confirmed_at is null`,
        [sub, secret],
      );
      return rowCount === 1;
    },

    /**
     * Takes a code's time step for the subject's factor: true once per step and only for a step
     * after the last one taken (of concurrent callers with the same code, one gets it). `confirm`
     * also confirms an unconfirmed factor.
     */
    async takeStep(sub: string, step: number, confirm: boolean): Promise<boolean> {
      const { rowCount } = await db.query(
        `update second_factors set last_step = $2, confirmed_at = case when $3::boolean then coalesce(confirmed_at, now()) else confirmed_at end
         where sub = $1 and kind = 'totp' and (last_step is null or last_step < $2) and ($3::boolean or confirmed_at is not null)`,
        [sub, step, confirm],
      );
      return rowCount === 1;
    },

    /** Whether the subject must give a second factor: a confirmed TOTP factor or a passkey (migration 018). */
    async any(sub: string): Promise<boolean> {
      const { rows } = await db.query<{ any: boolean }>(
        `select exists(select 1 from second_factors where sub = $1 and confirmed_at is not null)
                or exists(select 1 from passkeys where sub = $1) as any`,
        [sub],
      );
      return rows[0]?.any === true;
    },

    /** Removes the subject's factors (TOTP and passkeys) and recovery codes; answers how many usable factors went (not a TOTP enrolment left unconfirmed). */
    async removeAll(sub: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>(
        `with codes as (delete from recovery_codes where sub = $1),
         keys as (delete from passkeys where sub = $1 returning 1),
         totp as (delete from second_factors where sub = $1 returning confirmed_at)
         select ((select count(*) from keys) + (select count(*) from totp where confirmed_at is not null))::int as n`,
        [sub],
      );
      return rows[0]?.n ?? 0;
    },

    /** Removes the subject's TOTP factor; its recovery codes too, unless a passkey remains that they stand in for. */
    async removeTotp(sub: string): Promise<void> {
      await db.query(
        `with codes as (delete from recovery_codes where sub = $1 and not exists (select 1 from passkeys where sub = $1))
         delete from second_factors where sub = $1`,
        [sub],
      );
    },

    /** Replaces the subject's recovery codes with these hashes. */
    async setRecoveryCodes(sub: string, hashes: readonly string[]): Promise<void> {
      await db.query(
        `with gone as (delete from recovery_codes where sub = $1)
         insert into recovery_codes (sub, code_hash) select $1, hash from unnest($2::text[]) as hash`,
        [sub, hashes],
      );
    },

    /** Uses a recovery code: true once. */
    async useRecoveryCode(sub: string, hash: string): Promise<boolean> {
      const { rowCount } = await db.query('update recovery_codes set used_at = now() where sub = $1 and code_hash = $2 and used_at is null', [sub, hash]);
      return rowCount === 1;
    },

    async recoveryCodesLeft(sub: string): Promise<number> {
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from recovery_codes where sub = $1 and used_at is null', [sub]);
      return rows[0]?.n ?? 0;
    },
  };
}

export type SecondFactorQueries = ReturnType<typeof createSecondFactorQueries>;
