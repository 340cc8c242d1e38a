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
  /** The account's grant to a client that lives longest (liveGrant), given SQL for the account and the client. */
  const liveGrantOf = (account: string, client: string) =>
    `select id, payload from oidc_models where model = 'Grant' and payload ? 'accountId' and payload ->> 'accountId' = ${account}
       and payload ->> 'clientId' = ${client} and ${live} order by expires_at desc nulls first limit 1`;
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

    /**
     * Several writes in one statement: `destroys` deleted and `upserts` written as upsert() writes
     * them. No (model, id) may be in both lists or twice in one (the caller keeps the last write).
     */
    async writeAll(
      upserts: readonly { model: string; id: string; payload: ModelPayload; expiresIn: number | undefined }[],
      destroys: readonly { model: string; id: string }[],
    ): Promise<void> {
      const text = (value: unknown) => (typeof value === 'string' ? value : null);
      await db.query(
        `with destroyed as (
           delete from oidc_models using unnest($8::text[], $9::text[]) as gone(model, id)
           where oidc_models.model = gone.model and oidc_models.id = gone.id)
         insert into oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
         select model, id, payload::jsonb, grant_id, user_code, uid,
                case when expires_in is null then null else now() + make_interval(secs => expires_in) end
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[])
           as t(model, id, payload, grant_id, user_code, uid, expires_in)
         on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id,
           user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`,
        [
          upserts.map((write) => write.model),
          upserts.map((write) => write.id),
          upserts.map((write) => JSON.stringify(write.payload)),
          upserts.map((write) => text(write.payload.grantId)),
          upserts.map((write) => text(write.payload.userCode)),
          upserts.map((write) => text(write.payload.uid)),
          upserts.map((write) => write.expiresIn ?? null),
          destroys.map((gone) => gone.model),
          destroys.map((gone) => gone.id),
        ],
      );
    },

    async find(model: string, id: string): Promise<ModelPayload | undefined> {
      const { rows } = await db.query<Row>(`${select} where model = $1 and id = $2 and ${live}`, [model, id]);
      return withConsumed(rows[0]);
    },

    /**
     * A code or token with, in the same round trip, the grant it was issued under and the session
     * it came from (by the `sessionUid` in its payload): the token endpoint reads all three. With
     * `consumeFor` (a client id), the same statement also marks it used, as consume() does, when
     * it was issued to that client: `consumedNow` says this call was the one that did (of
     * concurrent callers, one is), and one some other call used comes back with `consumed` set.
     */
    async findWithGrant(
      model: string,
      id: string,
      consumeFor?: string,
    ): Promise<{
      payload: ModelPayload | undefined;
      consumedNow: boolean;
      grant?: { id: string; payload: ModelPayload };
      session?: { uid: string; payload: ModelPayload };
    }> {
      const { rows } = await db.query<Row & { kind: 'own' | 'grant' | 'session' | 'used'; id: string; uid: string | null }>(
        `with own as (select id, payload, consumed_at, grant_id from oidc_models where model = $1 and id = $2 and ${live}),
         used as (update oidc_models set consumed_at = now()
           where model = $1 and id = $2 and payload ->> 'clientId' = $3 and consumed_at is null and ${live} returning id)
         select 'own' as kind, id, null as uid, payload, extract(epoch from consumed_at)::int as consumed from own
         union all
         select 'used', id, null, null, null from used
         union all
         select 'grant', id, uid, payload, null from oidc_models
           where model = 'Grant' and id = (select grant_id from own) and ${live}
         union all
         select 'session', id, uid, payload, null from oidc_models
           where model = 'Session' and uid = (select payload ->> 'sessionUid' from own) and ${live}`,
        [model, id, consumeFor ?? null],
      );
      const own = rows.find((row) => row.kind === 'own');
      const consumedNow = rows.some((row) => row.kind === 'used');
      const grant = rows.find((row) => row.kind === 'grant');
      const session = rows.find((row) => row.kind === 'session' && row.uid !== null);
      // Asked to consume, found unused in this statement's snapshot, yet not consumed by it: a concurrent call used it first.
      const usedElsewhere = consumeFor !== undefined && own?.payload.clientId === consumeFor && own.consumed === null && !consumedNow;
      return {
        payload: withConsumed(own && usedElsewhere ? { ...own, consumed: Math.floor(Date.now() / 1000) } : own),
        consumedNow,
        ...(grant ? { grant: { id: grant.id, payload: grant.payload } } : {}),
        ...(session ? { session: { uid: session.uid!, payload: session.payload } } : {}),
      };
    },

    /**
     * An interaction with, in the same round trip, the grant its signed-in account gave its client
     * that lives longest (what liveGrant() would return for them): the resume after a sign-in
     * reads both. Without an account in its login result (or a client) no grant comes with it.
     */
    async findInteractionWithGrant(id: string): Promise<{ payload: ModelPayload | undefined; grant?: { id: string; payload: ModelPayload } }> {
      const { rows } = await db.query<Row & { kind: 'own' | 'grant'; id: string | null }>(
        `with own as (select payload, consumed_at, payload #>> '{result,login,accountId}' as account_id, payload #>> '{params,client_id}' as client_id
           from oidc_models where model = 'Interaction' and id = $1 and ${live})
         select 'own' as kind, null as id, payload, extract(epoch from consumed_at)::int as consumed from own
         union all
         select 'grant', id, payload, null from (${liveGrantOf('(select account_id from own)', '(select client_id from own)')}) as remembered`,
        [id],
      );
      const own = rows.find((row) => row.kind === 'own');
      const grant = rows.find((row) => row.kind === 'grant');
      return {
        payload: withConsumed(own),
        ...(grant ? { grant: { id: grant.id!, payload: grant.payload } } : {}),
      };
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

    /** The account's grant (consent) to a client that lives longest, if any: consent is remembered across browser sessions. */
    async liveGrant(accountId: string, clientId: string): Promise<{ id: string; payload: ModelPayload } | undefined> {
      const { rows } = await db.query<{ id: string; payload: ModelPayload }>(liveGrantOf('$1', '$2'), [accountId, clientId]);
      return rows[0];
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
