/**
 * The baseline of row 5: plain oidc-provider (its in-memory adapter, no Ferry) with the same
 * lazy-migration login written directly in host code — a pooled query to the legacy PostgreSQL,
 * bcrypt.compare, and the account written to PostgreSQL with an argon2id hash of the password,
 * as Ferry does by default (connection.adoptLegacyHashes off). Started as a child process by
 * bench/run.ts with its settings in argv.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import argon2 from 'argon2';
import bcrypt from 'bcrypt';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import pg from 'pg';

const settings = JSON.parse(process.argv[2]!) as {
  port: number;
  legacyUrl: string;
  storeUrl: string;
  client: { client_id: string; client_secret: string; redirect_uris: string[] };
};
const issuer = `http://127.0.0.1:${settings.port}`;
const legacy = new pg.Pool({ connectionString: settings.legacyUrl, max: 8 });
const store = new pg.Pool({ connectionString: settings.storeUrl, max: 8 });
await store.query('create table if not exists baseline_accounts (id text primary key, email text unique, password_hash text, profile jsonb)');
const accounts = new Map<string, { email: string; name: string }>();

const provider = new Provider(issuer, {
  clients: [{ ...settings.client, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }],
  features: { devInteractions: { enabled: false } },
  pkce: { required: () => true },
  issueRefreshToken: async () => true,
  conformIdTokenClaims: false,
  claims: { openid: ['sub'], email: ['email'], profile: ['name'] },
  async findAccount(_ctx, sub) {
    const account = accounts.get(sub);
    return account ? { accountId: sub, claims: () => ({ sub, email: account.email, name: account.name }) } : undefined;
  },
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

provider.use(async (ctx, next) => {
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
  const password = String(body.get('password'));
  const { rows } = await legacy.query('select id, email, name, password from users where lower(email) = $1', [email]);
  const user = rows[0];
  if (!user || !(await bcrypt.compare(password, user.password))) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = html(details.uid, '<p>wrong</p>');
    return;
  }
  const sub = String(user.id);
  const hash = await argon2.hash(password, { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  await store.query('insert into baseline_accounts (id, email, password_hash, profile) values ($1, $2, $3, $4) on conflict do nothing', [
    randomUUID(),
    `${sub}:${email}`,
    hash,
    JSON.stringify({ id: sub }),
  ]);
  accounts.set(sub, { email, name: user.name });
  await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
  ctx.respond = false;
});

createServer(provider.callback()).listen(settings.port, '127.0.0.1', () => process.stdout.write('ready\n'));
