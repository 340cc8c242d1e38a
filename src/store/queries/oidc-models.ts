import type { Queryable } from '../db.ts';

export type ModelPayload = Record<string, unknown>;

/** A consent as the account page shows it. */
export interface AccountGrant {
  id: string;
  clientId: string;
  scopes: string[];
  grantedAt: Date | null;
  expiresAt: Date | null;
}

/** The models oidc-provider revokes by grant (lib/helpers/revoke.js), plus ClientCredentials. */
const TOKEN_MODELS = [
  'AccessToken',
  'RefreshToken',
  'AuthorizationCode',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
  'ClientCredentials',
];

/** SQL for oidc-provider's persisted models (sessions, interactions, grants, codes, tokens). */
export function createOidcModelQueries(db: Queryable) {
  const live = '(expires_at is null or expires_at > now())';
  const withConsumed = (row: { payload: ModelPayload; consumed: number | null } | undefined) => {
    if (!row) return undefined;
    return row.consumed === null ? row.payload : { ...row.payload, consumed: row.consumed };
  };
  const select = `select payload, extract(epoch from consumed_at)::int as consumed from oidc_models`;
  type Row = { payload: ModelPayload; consumed: number | null };

  return {
    async upsert(model: string, id: string, payload: ModelPayload, expiresIn: number | undefined): Promise<void> {
      const grantId = typeof payload.grantId === 'string' ? payload.grantId : null;
      const userCode = typeof payload.userCode === 'string' ? payload.userCode : null;
      const uid = typeof payload.uid === 'string' ? payload.uid : null;
      await db.query(
        `insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
         values ($1, $2, $3::jsonb, $4, $5, $6, case when $7::int is null then null else now() + make_interval(secs => $7::int) end)
         on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
        [model, id, JSON.stringify(payload), grantId, userCode, uid, expiresIn ?? null],
      );
    },

    async find(model: string, id: string): Promise<ModelPayload | undefined> {
      const { rows } = await db.query<Row>(`${select} where model = $1 and id = $2 and ${live}`, [model, id]);
      return withConsumed(rows[0]);
    },

    async findByUid(model: string, uid: string): Promise<ModelPayload | undefined> {
      const { rows } = await db.query<Row>(`${select} where model = $1 and uid = $2 and ${live} limit 1`, [model, uid]);
      return withConsumed(rows[0]);
    },

    async findByUserCode(model: string, userCode: string): Promise<ModelPayload | undefined> {
      const { rows } = await db.query<Row>(`${select} where model = $1 and user_code = $2 and ${live} limit 1`, [model, userCode]);
      return withConsumed(rows[0]);
    },

    /** Marks a code or token used; false when it already was (or is gone). The row decides, so of concurrent callers one wins. */
    async consume(model: string, id: string): Promise<boolean> {
      const { rowCount } = await db.query('update oidc_models set consumed_at = now() where model = $1 and id = $2 and consumed_at is null', [model, id]);
      return rowCount === 1;
    },

    async grantIdOf(model: string, id: string): Promise<string | undefined> {
      const { rows } = await db.query<{ grant_id: string | null }>('select grant_id from oidc_models where model = $1 and id = $2', [model, id]);
      return rows[0]?.grant_id ?? undefined;
    },

    /** Deletes a grant and everything issued under it. */
    async revokeGrant(grantId: string): Promise<void> {
      await db.query("delete from oidc_models where grant_id = $1 or (model = 'Grant' and id = $1)", [grantId]);
    },

    async destroy(model: string, id: string): Promise<void> {
      await db.query('delete from oidc_models where model = $1 and id = $2', [model, id]);
    },

    /**
     * Deletes the codes and tokens issued under a grant. Not the Interaction that may carry the same
     * grantId: signing in as someone else revokes the old grant in the middle of that interaction,
     * which must still resume afterwards.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      await db.query(`delete from oidc_models where grant_id = $1 and model = any($2::text[])`, [grantId, TOKEN_MODELS]);
    },

    /**
     * Ends everything an account holds: its browser sessions, its grants (consents), and every code
     * and token issued to it (each carries the accountId; those under its grants go with them).
     * Returns how many rows went.
     */
    async revokeAccount(accountId: string): Promise<number> {
      const { rowCount } = await db.query(
        `delete from oidc_models where (payload ? 'accountId' and payload ->> 'accountId' = $1)
           or grant_id in (select id from oidc_models where model = 'Grant' and payload ? 'accountId' and payload ->> 'accountId' = $1)`,
        [accountId],
      );
      return rowCount;
    },

    /** The id of the account's grant (consent) to a client that lives longest, if any: consent is remembered across browser sessions. */
    async liveGrantId(accountId: string, clientId: string): Promise<string | undefined> {
      const { rows } = await db.query<{ id: string }>(
        `select id from oidc_models where model = 'Grant' and payload ? 'accountId' and payload ->> 'accountId' = $1
           and payload ->> 'clientId' = $2 and ${live} order by expires_at desc nulls first limit 1`,
        [accountId, clientId],
      );
      return rows[0]?.id;
    },

    /** The account's live grants (consents), one per client, newest first: what the account page lists. */
    async grantsOf(accountId: string): Promise<AccountGrant[]> {
      const { rows } = await db.query<{ id: string; client_id: string; scope: string | null; granted_at: Date | null; expires_at: Date | null }>(
        `select distinct on (payload ->> 'clientId') id, payload ->> 'clientId' as client_id, payload #>> '{openid,scope}' as scope,
           to_timestamp((payload ->> 'iat')::bigint) as granted_at, expires_at
         from oidc_models where model = 'Grant' and payload ? 'accountId' and payload ->> 'accountId' = $1 and ${live}
         order by payload ->> 'clientId', expires_at desc nulls first`,
        [accountId],
      );
      return rows
        .map((row) => ({
          id: row.id,
          clientId: row.client_id,
          scopes: (row.scope ?? '').split(' ').filter(Boolean),
          grantedAt: row.granted_at,
          expiresAt: row.expires_at,
        }))
        .sort((a, b) => (b.grantedAt?.getTime() ?? 0) - (a.grantedAt?.getTime() ?? 0));
    },

    /**
     * Revokes every grant the account gave a client, and the codes and tokens issued under them;
     * false when the account has none (a grant of another account is never touched).
     */
    async revokeClientGrants(accountId: string, clientId: string): Promise<boolean> {
      const { rowCount } = await db.query(
        `with owned as (select id from oidc_models where model = 'Grant' and payload ? 'accountId' and payload ->> 'accountId' = $1 and payload ->> 'clientId' = $2)
         delete from oidc_models where grant_id in (select id from owned) or (model = 'Grant' and id in (select id from owned))`,
        [accountId, clientId],
      );
      return rowCount > 0;
    },

    /** Deletes expired rows; returns how many. */
    async deleteExpired(): Promise<number> {
      const { rowCount } = await db.query('delete from oidc_models where expires_at < now()');
      return rowCount;
    },
  };
}

export type OidcModelQueries = ReturnType<typeof createOidcModelQueries>;
