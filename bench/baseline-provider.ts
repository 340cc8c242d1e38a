/**
 * The baselines: plain oidc-provider (no Ferry) with the same lazy-migration login written
 * directly in host code, as an engineer would build it on oidc-provider: the account is looked up
 * in its own PostgreSQL table first and its argon2id hash verified; an account not there yet is
 * checked against the legacy PostgreSQL (pooled query, bcrypt.compare) and written to the table
 * with an argon2id hash of the password, as Ferry does by default (connection.adoptLegacyHashes
 * off). So a user's first login is a migration and every later one a migrated-user login.
 *
 * `adapter` selects where oidc-provider keeps its models: `memory` (its own in-memory adapter;
 * accounts for findAccount are also kept in memory) or `postgres` (the straightforward adapter
 * below, one table, and findAccount reads the accounts table). GET /_counters gives the store
 * queries sent so far, for bench/run.ts. Started as a child process by bench/run.ts with its
 * settings in argv.
 */
import { createServer } from 'node:http';
import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';
import pg from 'pg';

const settings = JSON.parse(process.argv[2]!) as {
  port: number;
  legacyUrl: string;
  storeUrl: string;
  adapter?: 'memory' | 'postgres';
  client: { client_id: string; client_secret: string; redirect_uris: string[] };
};
const issuer = `http://127.0.0.1:${settings.port}`;
const legacy = new pg.Pool({ connectionString: settings.legacyUrl, max: 8 });
const pool = new pg.Pool({ connectionString: settings.storeUrl, max: 8 });
let storeQueries = 0;
const store = {
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
    storeQueries += 1;
    return pool.query<R>(text, values);
  },
};
await pool.query(`
  create table if not exists baseline_accounts (id text primary key, email text unique not null, password_hash text not null, profile jsonb not null);
  create table if not exists oidc_models (
    kind text not null, id text not null, payload jsonb not null, grant_id text, user_code text, uid text,
    expires_at timestamptz, consumed_at timestamptz, primary key (kind, id));
  create index if not exists oidc_models_grant_id on oidc_models (grant_id);
  create index if not exists oidc_models_user_code on oidc_models (user_code);
  create index if not exists oidc_models_uid on oidc_models (uid);
`);

/** One table for every model, keyed by (kind, id), the lookups oidc-provider needs indexed. */
class PostgresAdapter implements Adapter {
  private readonly kind: string;
  constructor(kind: string) {
    this.kind = kind;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    await store.query(
      `insert into oidc_models (kind, id, payload, grant_id, user_code, uid, expires_at)
       values ($1, $2, $3, $4, $5, $6, case when $7::int is null then null else now() + make_interval(secs => $7::int) end)
       on conflict (kind, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, user_code = excluded.user_code,
         uid = excluded.uid, expires_at = excluded.expires_at`,
      [this.kind, id, payload, payload.grantId ?? null, payload.userCode ?? null, payload.uid ?? null, expiresIn ?? null],
    );
  }

  private async findWhere(column: 'id' | 'uid' | 'user_code', value: string) {
    const { rows } = await store.query<{ payload: AdapterPayload; consumed: number | null }>(
      `select payload, extract(epoch from consumed_at)::int as consumed from oidc_models
       where kind = $1 and ${column} = $2 and (expires_at is null or expires_at > now())`,
      [this.kind, value],
    );
    const row = rows[0];
    return row ? { ...row.payload, ...(row.consumed ? { consumed: row.consumed } : {}) } : undefined;
  }

  find(id: string) {
    return this.findWhere('id', id);
  }
  findByUid(uid: string) {
    return this.findWhere('uid', uid);
  }
  findByUserCode(userCode: string) {
    return this.findWhere('user_code', userCode);
  }
  async consume(id: string) {
    await store.query('update oidc_models set consumed_at = now() where kind = $1 and id = $2', [this.kind, id]);
  }
  async destroy(id: string) {
    await store.query('delete from oidc_models where kind = $1 and id = $2', [this.kind, id]);
  }
  async revokeByGrantId(grantId: string) {
    await store.query('delete from oidc_models where kind = $1 and grant_id = $2', [this.kind, grantId]);
  }
}

const onPostgres = settings.adapter === 'postgres';
const accounts = new Map<string, { email: string; name: string }>();

async function findAccount(_ctx: KoaContextWithOIDC, sub: string) {
  let account = accounts.get(sub);
  if (onPostgres) {
    const { rows } = await store.query<{ email: string; name: string }>("select email, profile->>'name' as name from baseline_accounts where id = $1", [sub]);
    account = rows[0];
  }
  return account ? { accountId: sub, claims: () => ({ sub, email: account.email, name: account.name }) } : undefined;
}

const provider = new Provider(issuer, {
  ...(onPostgres ? { adapter: PostgresAdapter } : {}),
  clients: [{ ...settings.client, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  issueRefreshToken: async () => true,
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  findAccount,
  async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
    grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(' '));
    await grant.save();
    return grant;
  },
});
provider.on('server_error', (_ctx, error) => console.error(error));

const html = (uid: string, error = '') =>
  `<!doctype html><title>Sign in</title>${error}<form method="post" action="/interaction/${uid}/login"><input name="identifier"><input name="password" type="password"></form>`;

/** The account's id and name when the password is right: the own table first, then the legacy database. */
async function verify(email: string, password: string): Promise<{ sub: string; name: string } | undefined> {
  const local = await store.query<{ id: string; password_hash: string; name: string }>(
    "select id, password_hash, profile->>'name' as name from baseline_accounts where email = $1",
    [email],
  );
  const account = local.rows[0];
  if (account) return (await argon2.verify(account.password_hash, password)) ? { sub: account.id, name: account.name } : undefined;
  const { rows } = await legacy.query('select id, email, name, password from users where lower(email) = $1', [email]);
  const user = rows[0];
  if (!user || !(await bcrypt.compare(password, user.password))) return undefined;
  const sub = String(user.id);
  const hash = await argon2.hash(password, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  await store.query('insert into baseline_accounts (id, email, password_hash, profile) values ($1, $2, $3, $4) on conflict do nothing', [
    sub,
    email,
    hash,
    JSON.stringify({ name: user.name }),
  ]);
  return { sub, name: user.name };
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/_counters') {
    ctx.body = { queries: storeQueries, transactions: 0 };
    return;
  }
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    ctx.body = html(details.uid);
    return;
  }
  const body = new URLSearchParams(
    await new Promise<string>((resolve) => {
      let data = '';
      ctx.req.on('data', (chunk) => (data += chunk)).on('end', () => resolve(data));
    }),
  );
  const email = String(body.get('identifier')).toLowerCase();
  const account = await verify(email, String(body.get('password')));
  if (!account) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = html(details.uid, '<p>wrong</p>');
    return;
  }
  accounts.set(account.sub, { email, name: account.name });
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
});

createServer(provider.callback()).listen(settings.port, '127.0.0.1', () => process.stdout.write('ready\n'));
