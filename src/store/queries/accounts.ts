import type { Queryable } from '../db.ts';
import { forget, readOnce, remember } from '../request-scope.ts';

export type Profile = Record<string, unknown>;

export interface AccountRow {
  id: string;
  sub: string;
  email: string | null;
  phone: string | null;
  username: string | null;
  password_hash: string | null;
  profile: Profile;
  legacy_id: string | null;
  migrated_at: Date | null;
  /** Set when a bulk import created the account (migrated_at stays null then). */
  imported_at: Date | null;
  /** Set while an operator has blocked the account: it cannot sign in (migration 014). */
  blocked_at: Date | null;
  created_at: Date;
  updated_at: Date;
  /** Read by findBy only: whether the subject has a confirmed second factor (src/accounts/second-factor.ts). */
  second_factor?: boolean;
}

export interface NewAccount {
  id: string;
  sub: string;
  email?: string | null;
  phone?: string | null;
  username?: string | null;
  passwordHash?: string | null;
  profile: Profile;
  legacyId?: string | null;
  migratedAt?: Date | null;
  /** A TOTP secret carried over (base32, checked): stored as a confirmed second factor in the same statement. */
  totpSecret?: string | undefined;
}

export type IdentifierColumn = 'email' | 'phone' | 'username';
type LookupColumn = IdentifierColumn | 'id' | 'sub' | 'legacy_id';

/** The request-scope keys of account reads. */
export const ACCOUNT = 'account\0';

const COLUMNS = 'id, sub, email, phone, username, password_hash, profile, legacy_id, migrated_at, imported_at, blocked_at, created_at, updated_at';

/** SQL for Ferry's own accounts table. */
export function createAccountQueries(db: Queryable) {
  // Read once per HTTP request (src/store/request-scope.ts): a sign-in looks its account up by the
  // identifier typed, then by subject for its claims. Every write forgets what was read.
  const findBy = (column: LookupColumn, value: string): Promise<AccountRow | undefined> =>
    readOnce(`${ACCOUNT}${column}\0${value}`, async () => {
      const { rows } = await db.query<AccountRow>(
        `select ${COLUMNS}, (exists(select 1 from second_factors where second_factors.sub = accounts.sub and confirmed_at is not null)
                or exists(select 1 from passkeys where passkeys.sub = accounts.sub)) as second_factor
         from accounts where ${column} = $1`,
        [value],
      );
      const row = rows[0];
      if (row && column !== 'sub') remember(`${ACCOUNT}sub\0${row.sub}`, row);
      return row;
    });

  return {
    findBy,

    /** Inserts an account; a unique violation (code 23505) names the constraint that refused it. */
    async insert(account: NewAccount, tx: Queryable = db): Promise<AccountRow> {
      forget(ACCOUNT);
      const { rows } = await tx.query<AccountRow>(
        `insert into accounts (id, sub, email, phone, username, password_hash, profile, legacy_id, migrated_at)
         values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) returning ${COLUMNS}`,
        accountParams(account),
      );
      // Inside a caller's transaction the row may still be rolled back: only a committed one is remembered.
      if (tx === db) remember(`${ACCOUNT}sub\0${rows[0]!.sub}`, rows[0]);
      return rows[0]!;
    },

    /** Inserts unless any unique column (id, sub, identifiers, legacy id) is taken; undefined then. */
    async insertIfAbsent(account: NewAccount): Promise<AccountRow | undefined> {
      forget(ACCOUNT);
      const { rows } = await db.query<AccountRow>(
        `with inserted as (
           insert into accounts (id, sub, email, phone, username, password_hash, profile, legacy_id, migrated_at)
           values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9) on conflict do nothing returning ${COLUMNS}),
         factor as (
           insert into second_factors (sub, kind, secret, confirmed_at)
           select sub, 'totp', $10, now() from inserted where $10::text is not null on conflict do nothing)
         select * from inserted`,
        [...accountParams(account), account.totpSecret ?? null],
      );
      if (rows[0]) remember(`${ACCOUNT}sub\0${rows[0].sub}`, rows[0]);
      return rows[0];
    },

    /**
     * Inserts imported accounts in one statement, skipping any whose unique columns (legacy id,
     * sub, identifiers) are taken; returns the legacy ids that were inserted. `swept`: a sweep made them.
     */
    async insertImported(accounts: readonly NewAccount[], swept = false): Promise<Set<string>> {
      forget(ACCOUNT);
      if (accounts.length === 0) return new Set();
      const column = (pick: (account: NewAccount) => unknown) => accounts.map((account) => pick(account) ?? null);
      const { rows } = await db.query<{ legacy_id: string }>(
        `with inserted as (
           insert into accounts (id, sub, email, phone, username, password_hash, profile, legacy_id, imported_at, swept_at)
           select id, sub, email, phone, username, password_hash, profile::jsonb, legacy_id, now(), case when $9::boolean then now() end
           from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
             as t(id, sub, email, phone, username, password_hash, profile, legacy_id)
           on conflict do nothing returning legacy_id, sub),
         factors as (
           insert into second_factors (sub, kind, secret, confirmed_at)
           select inserted.sub, 'totp', given.secret, now()
           from inserted join unnest($8::text[], $10::text[]) as given(legacy_id, secret) on given.legacy_id = inserted.legacy_id
           where given.secret is not null on conflict do nothing)
         select legacy_id from inserted`,
        [
          column((a) => a.id),
          column((a) => a.sub),
          column((a) => a.email),
          column((a) => a.phone),
          column((a) => a.username),
          column((a) => a.passwordHash),
          column((a) => JSON.stringify(a.profile)),
          column((a) => a.legacyId),
          swept,
          column((a) => a.totpSecret),
        ],
      );
      return new Set(rows.map((row) => row.legacy_id));
    },

    /** Which of these legacy ids already have an account. */
    async existingLegacyIds(legacyIds: readonly string[]): Promise<Set<string>> {
      if (legacyIds.length === 0) return new Set();
      const { rows } = await db.query<{ legacy_id: string }>('select legacy_id from accounts where legacy_id = any($1::text[])', [legacyIds]);
      return new Set(rows.map((row) => row.legacy_id));
    },

    async update(
      id: string,
      changes: { email?: string | null; phone?: string | null; username?: string | null; profile?: Profile; passwordHash?: string },
    ): Promise<AccountRow | undefined> {
      forget(ACCOUNT);
      const sets: string[] = [];
      const params: unknown[] = [id];
      const set = (column: string, value: unknown, cast = '') => {
        params.push(value);
        sets.push(`${column} = $${params.length}${cast}`);
      };
      if ('email' in changes) set('email', changes.email);
      if ('phone' in changes) set('phone', changes.phone);
      if ('username' in changes) set('username', changes.username);
      if (changes.profile) set('profile', JSON.stringify(changes.profile), '::jsonb');
      if (changes.passwordHash) set('password_hash', changes.passwordHash);
      const { rows } = await db.query<AccountRow>(
        `update accounts set ${[...sets, 'updated_at = now()'].join(', ')} where id = $1 returning ${COLUMNS}`,
        params,
      );
      return rows[0];
    },

    async delete(id: string): Promise<boolean> {
      forget(ACCOUNT);
      const { rowCount } = await db.query('delete from accounts where id = $1', [id]);
      return rowCount > 0;
    },

    async list(offset: number, limit: number): Promise<{ rows: AccountRow[]; total: number }> {
      const [page, count] = await Promise.all([
        db.query<AccountRow>(`select ${COLUMNS} from accounts order by created_at, id offset $1 limit $2`, [offset, limit]),
        db.query<{ n: number }>('select count(*)::int as n from accounts'),
      ]);
      return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
    },

    /** Case-insensitive substring match on identifiers and names: one page, and how many match in all. */
    async search(keyword: string, offset: number, limit: number): Promise<{ rows: AccountRow[]; total: number }> {
      const pattern = `%${keyword.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const matches = `from accounts
         where email ilike $1 or phone ilike $1 or username ilike $1 or sub ilike $1
            or profile->>'name' ilike $1 or profile->>'nickname' ilike $1`;
      const [page, count] = await Promise.all([
        db.query<AccountRow>(`select ${COLUMNS} ${matches} order by created_at, id offset $2 limit $3`, [pattern, offset, limit]),
        db.query<{ n: number }>(`select count(*)::int as n ${matches}`, [pattern]),
      ]);
      return { rows: page.rows, total: count.rows[0]?.n ?? 0 };
    },
  };
}

export type AccountQueries = ReturnType<typeof createAccountQueries>;

function accountParams(account: NewAccount): unknown[] {
  return [
    account.id,
    account.sub,
    account.email ?? null,
    account.phone ?? null,
    account.username ?? null,
    account.passwordHash ?? null,
    JSON.stringify(account.profile),
    account.legacyId ?? null,
    account.migratedAt ?? null,
  ];
}

/** True when `error` is PostgreSQL's unique violation. */
export function isUniqueViolation(error: unknown): error is Error & { constraint?: string; detail?: string } {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
