import type { Queryable } from '../db.ts';

/** A browser session of an account, as an operator sees it. */
export interface AccountSession {
  /** The session's uid (not its id, which is the browser's cookie and never leaves the store). */
  uid: string;
  /** When the person signed in (oidc-provider's loginTs). */
  startedAt: Date | null;
  /** The latest of: the session written, a code or token issued under it and still stored. */
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  /** The clients this session has authorized (signed in to). */
  clients: string[];
}

/** What `sessionUid` binds to a session: deleted with it when an operator ends it. */
const SESSION_BOUND = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'BackchannelAuthenticationRequest', 'DeviceCode'];

/**
 * SQL over oidc-provider's Session rows in oidc_models, by the account they belong to. Sessions and
 * the codes and tokens under them are found through the account (migration 006's index), never by
 * scanning every token for a session uid.
 */
export function createSessionQueries(db: Queryable) {
  const live = '(expires_at is null or expires_at > now())';
  const owned = `model = 'Session' and payload ? 'accountId' and payload ->> 'accountId' = $1 and ${live}`;
  return {
    /** The account's live sessions, newest first. */
    async of(accountId: string): Promise<AccountSession[]> {
      const { rows } = await db.query<{
        uid: string;
        started_at: Date | null;
        last_used_at: Date | null;
        expires_at: Date | null;
        clients: string[] | null;
      }>(
        `select s.uid, to_timestamp((s.payload ->> 'loginTs')::bigint) as started_at, s.expires_at,
           (select array_agg(key order by key) from jsonb_object_keys(coalesce(s.payload -> 'authorizations', '{}'::jsonb)) as key) as clients,
           greatest(to_timestamp((s.payload ->> 'iat')::bigint),
             (select to_timestamp(max((t.payload ->> 'iat')::bigint)) from oidc_models t
               where t.payload ? 'accountId' and t.payload ->> 'accountId' = $1
                 and t.model = any($2::text[]) and t.payload ->> 'sessionUid' = s.uid)) as last_used_at
         from oidc_models s where s.model = 'Session' and s.payload ? 'accountId' and s.payload ->> 'accountId' = $1
           and (s.expires_at is null or s.expires_at > now())
         order by started_at desc nulls last`,
        [accountId, SESSION_BOUND],
      );
      return rows.map((row) => ({
        uid: row.uid,
        startedAt: row.started_at,
        lastUsedAt: row.last_used_at,
        expiresAt: row.expires_at,
        clients: row.clients ?? [],
      }));
    },

    /**
     * Ends sessions of the account (one by uid, or all): the browser must sign in again, and the
     * codes and tokens issued under them go too. Grants (consents) stay: they outlive browser
     * sessions. Returns how many sessions ended.
     */
    end: (accountId: string, uid?: string): Promise<number> => endWhere(accountId, uid ?? null, null),

    /** Ends every session of the account but `keepUid` (the browser asking), as `end` does. */
    endOthers: (accountId: string, keepUid: string | undefined): Promise<number> => endWhere(accountId, null, keepUid ?? null),
  };

  async function endWhere(accountId: string, only: string | null, except: string | null): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      `with ended as (delete from oidc_models where ${owned} and ($3::text is null or uid = $3) and ($4::text is null or uid <> $4) returning uid),
       tokens as (delete from oidc_models where payload ? 'accountId' and payload ->> 'accountId' = $1
         and model = any($2::text[]) and payload ->> 'sessionUid' in (select uid from ended))
       select count(*)::int as n from ended`,
      [accountId, SESSION_BOUND, only, except],
    );
    return rows[0]?.n ?? 0;
  }
}

export type SessionQueries = ReturnType<typeof createSessionQueries>;
