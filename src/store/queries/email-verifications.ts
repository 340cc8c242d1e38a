import type { Queryable } from '../db.ts';

export interface VerificationLink {
  sub: string;
  /** The address the link was sent to: it verifies that address only. */
  email: string;
  /** The link makes `email` the account's address (sent from the account page to a new address). */
  change: boolean;
}

/** SQL for email verification links (stored as token hashes). Times are the database's. */
export function createEmailVerificationQueries(db: Queryable) {
  return {
    async insert(tokenHash: string, link: VerificationLink, minutes: number): Promise<void> {
      await db.query(
        `insert into email_verifications (token_hash, sub, email, change, expires_at)
         values ($1, $2, $3, $4, now() + make_interval(mins => $5::int))`,
        [tokenHash, link.sub, link.email, link.change, minutes],
      );
    },

    /** A link that is unused and not expired. */
    async peek(tokenHash: string): Promise<VerificationLink | undefined> {
      const { rows } = await db.query<VerificationLink>(
        'select sub, email, change from email_verifications where token_hash = $1 and used_at is null and expires_at > now()',
        [tokenHash],
      );
      return rows[0];
    },

    /** Uses a link: of concurrent callers with the same link, one gets it back. */
    async consume(tokenHash: string): Promise<VerificationLink | undefined> {
      const { rows } = await db.query<VerificationLink>(
        'update email_verifications set used_at = now() where token_hash = $1 and used_at is null and expires_at > now() returning sub, email, change',
        [tokenHash],
      );
      return rows[0];
    },

    /** Ends a subject's unused links (after its address changed, an older change link must not change it again). */
    async retire(sub: string): Promise<void> {
      await db.query('update email_verifications set used_at = now() where sub = $1 and used_at is null', [sub]);
    },

    /** Links sent to a subject in the last `minutes` (resends are limited by it). */
    async sentSince(sub: string, minutes: number): Promise<number> {
      const { rows } = await db.query<{ n: number }>(
        'select count(*)::int as n from email_verifications where sub = $1 and created_at > now() - make_interval(mins => $2::int)',
        [sub, minutes],
      );
      return rows[0]?.n ?? 0;
    },

    async prune(): Promise<number> {
      const { rowCount } = await db.query(`delete from email_verifications where expires_at < now() - interval '1 day'`);
      return rowCount;
    },
  };
}

export type EmailVerificationQueries = ReturnType<typeof createEmailVerificationQueries>;
