import type { Identifier, IdentifierKind } from '../../accounts/identifier.ts';
import type { Queryable } from '../db.ts';

export interface ResetLink {
  sub: string;
  /** Set for a legacy user not migrated when the link was sent, with the identifier they typed. */
  legacy?: { legacyId: string; identifier: Identifier } | undefined;
}

type Row = { sub: string; legacy_id: string | null; identifier_kind: IdentifierKind | null; identifier_value: string | null };
const toLink = (row: Row | undefined): ResetLink | undefined => {
  if (!row) return undefined;
  const legacy =
    row.legacy_id && row.identifier_kind && row.identifier_value
      ? { legacyId: row.legacy_id, identifier: { kind: row.identifier_kind, value: row.identifier_value } }
      : undefined;
  return { sub: row.sub, legacy };
};

/** SQL for password reset links (stored as token hashes). Times are the database's. */
export function createPasswordResetQueries(db: Queryable) {
  return {
    async insert(tokenHash: string, link: ResetLink, minutes: number): Promise<void> {
      await db.query(
        `insert into password_resets (token_hash, sub, legacy_id, identifier_kind, identifier_value, expires_at)
         values ($1, $2, $3, $4, $5, now() + make_interval(mins => $6::int))`,
        [tokenHash, link.sub, link.legacy?.legacyId ?? null, link.legacy?.identifier.kind ?? null, link.legacy?.identifier.value ?? null, minutes],
      );
    },

    /** A link that is unused and not expired. */
    async peek(tokenHash: string): Promise<ResetLink | undefined> {
      const { rows } = await db.query<Row>(
        'select sub, legacy_id, identifier_kind, identifier_value from password_resets where token_hash = $1 and used_at is null and expires_at > now()',
        [tokenHash],
      );
      return toLink(rows[0]);
    },

    /** Uses a link: of concurrent callers with the same link, one gets true. */
    async consume(tokenHash: string): Promise<boolean> {
      const { rowCount } = await db.query('update password_resets set used_at = now() where token_hash = $1 and used_at is null and expires_at > now()', [
        tokenHash,
      ]);
      return rowCount === 1;
    },

    /** After a reset: the subject's other links stop working. */
    async deleteOthers(sub: string, keepHash: string): Promise<void> {
      await db.query('delete from password_resets where sub = $1 and token_hash <> $2', [sub, keepHash]);
    },

    async prune(): Promise<number> {
      const { rowCount } = await db.query(`delete from password_resets where expires_at < now() - interval '1 day'`);
      return rowCount;
    },
  };
}

export type PasswordResetQueries = ReturnType<typeof createPasswordResetQueries>;
