import type { Middleware } from 'koa';
import Provider, { errors, type Adapter, type AdapterPayload } from 'oidc-provider';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';
import { forget, readOnce, remember, remembered, requestMemory, requestState, withRequestScope } from '../store/request-scope.ts';
import { atResume, atTokenEndpoint, deferred, deferWritesOf, flushDeferred } from './request-writes.ts';

/**
 * Every read of one HTTP request is remembered for that request (src/store/request-scope.ts), and
 * the writes the resume and the token endpoint defer are stored in one statement at its end,
 * before Koa sends the response (src/oidc/request-writes.ts).
 */
export const memoiseReadsPerRequest: Middleware = (ctx, next) =>
  withRequestScope(async () => {
    deferWritesOf(ctx.method, ctx.path);
    try {
      await next();
    } catch (error) {
      await flushDeferred().catch(() => {});
      throw error;
    }
    await flushDeferred();
  });

/** Set when this request's read of a code or refresh token also consumed it (the token endpoint). */
const consumedHere = (model: string, id: string) => `consumed\0${model}\0${id}`;

const memoised = (key: string, read: () => Promise<AdapterPayload | undefined>) => readOnce<AdapterPayload>(key, read);

/**
 * Gives this request's reads a row another query has just returned (with its payload), so that
 * oidc-provider's own look-up of it is not a second query.
 */
export function primeRead(model: string, id: string, payload: Record<string, unknown>): void {
  remember(`${model}\0${id}`, payload);
}

/**
 * The remembered grant (remembered-grant.ts) of an account at a client, as this request read it
 * with the interaction: `{ grant }`, with `grant` undefined when the account has none.
 */
const liveGrantKey = (accountId: string, clientId: string) => `Grant\0live\0${accountId}\0${clientId}`;
export const rememberedLiveGrant = (accountId: string, clientId: string) =>
  remembered<{ grant?: { id: string; payload: Record<string, unknown> } }>(liveGrantKey(accountId, clientId));

/** A write forgets what it could change: the row, and its model's look-ups by uid (and a grant's by account); everything without a model. */
function forgetReads(model?: string, id?: string): void {
  if (model === undefined) {
    forget();
    return;
  }
  forget(`${model}\0${id}`);
  forget(`${model}\0uid\0`);
  if (model === 'Grant') forget('Grant\0live\0');
}

/** The claims of an account this request has looked up (ID token, userinfo), to carry to the next step of the same sign-in. */
const CLAIMS = 'claims\0';
/** The payload field claims are carried in from one step of a sign-in to the next. */
const CARRIED = 'ferryClaims';
export const rememberClaims = (sub: string, claims: Record<string, unknown>) => remember(`${CLAIMS}${sub}`, claims);
export const rememberedClaims = (sub: string) => remembered<Record<string, unknown>>(`${CLAIMS}${sub}`);

/**
 * The account a stored step of a sign-in belongs to: the interaction after the login form (its
 * result), the authorization code after the resume. Each carries the claims the step before
 * looked up, so the next step (the resume, the code exchange) does not read the account again;
 * they are the claims as they were seconds earlier, when the person signed in.
 */
function accountOf(model: string, payload: Record<string, unknown>): string | undefined {
  if (model === 'AuthorizationCode') return typeof payload.accountId === 'string' ? payload.accountId : undefined;
  if (model !== 'Interaction') return undefined;
  const login = (payload.result as { login?: { accountId?: unknown } } | undefined)?.login;
  return typeof login?.accountId === 'string' ? login.accountId : undefined;
}

async function withClaims(model: string, payload: AdapterPayload): Promise<Record<string, unknown>> {
  const sub = accountOf(model, payload as Record<string, unknown>);
  const claims = sub ? await rememberedClaims(sub) : undefined;
  return claims ? { ...payload, [CARRIED]: claims } : (payload as Record<string, unknown>);
}

/** Takes the carried claims off a payload read from the store, remembering them for this request. */
function takeClaims(model: string, payload: Record<string, unknown> | undefined): AdapterPayload | undefined {
  if (!payload || !(CARRIED in payload)) return payload as AdapterPayload | undefined;
  const { [CARRIED]: claims, ...rest } = payload;
  const sub = accountOf(model, rest);
  if (sub && claims && typeof claims === 'object') rememberClaims(sub, claims as Record<string, unknown>);
  return rest as AdapterPayload;
}

/** Codes and tokens the token endpoint reads together with their grant and session. */
const WITH_GRANT = new Set(['AuthorizationCode', 'RefreshToken']);

/** Models redeemed at the token endpoint, where a second use means a stolen or replayed grant. */
const SINGLE_USE_GRANTS = new Set(['AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);

/**
 * oidc-provider's storage adapter over Ferry's database: one table for every model, so sessions,
 * grants, codes and tokens survive restarts and are shared by every instance on one PostgreSQL.
 */
export function createAdapterClass(queries: OidcModelQueries) {
  return class StoreAdapter implements Adapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
      forgetReads(this.model, id);
      const stored = await withClaims(this.model, payload);
      if (deferred(queries, { kind: 'upsert', model: this.model, id, payload: stored, expiresIn: expiresIn || undefined })) {
        // Reads later in this request see the write that waits.
        remember(`${this.model}\0${id}`, payload);
        if (typeof payload.uid === 'string') remember(`${this.model}\0uid\0${payload.uid}`, payload);
        return;
      }
      await flushDeferred();
      await queries.upsert(this.model, id, stored, expiresIn || undefined);
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (WITH_GRANT.has(this.model)) {
        return memoised(`${this.model}\0${id}`, async () => {
          // At the token endpoint the read also consumes it (one statement instead of two) when the
          // client asking is the one it was issued to: oidc-provider consumes every code it redeems,
          // and every refresh token (rotateRefreshToken is always on). One that then fails a later
          // check (a wrong PKCE verifier or redirect URI) is used up all the same.
          const client = atTokenEndpoint() ? Provider.ctx?.oidc?.client?.clientId : undefined;
          const found = await queries.findWithGrant(this.model, id, client);
          if (found.consumedNow) requestState()?.set(consumedHere(this.model, id), true);
          // oidc-provider reads the grant and the session next: they came in the same round trip.
          if (found.grant) primeRead('Grant', found.grant.id, found.grant.payload);
          if (found.session) primeRead('Session', `uid\0${found.session.uid}`, found.session.payload);
          return takeClaims(this.model, found.payload);
        });
      }
      if (this.model === 'Interaction' && atResume()) {
        return memoised(`${this.model}\0${id}`, async () => {
          // The resume looks the signed-in account's remembered grant up next: it came in the same round trip.
          const found = await queries.findInteractionWithGrant(id);
          const login = (found.payload?.result as { login?: { accountId?: string } } | undefined)?.login;
          const clientId = (found.payload?.params as { client_id?: string } | undefined)?.client_id;
          if (login?.accountId && clientId) remember(liveGrantKey(login.accountId, clientId), { grant: found.grant });
          return takeClaims(this.model, found.payload);
        });
      }
      return memoised(`${this.model}\0${id}`, async () => takeClaims(this.model, await queries.find(this.model, id)));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return memoised(`${this.model}\0uid\0${uid}`, async () => (await queries.findByUid(this.model, uid)) as AdapterPayload | undefined);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return (await queries.findByUserCode(this.model, userCode)) as AdapterPayload | undefined;
    }

    /**
     * oidc-provider reads a code or refresh token, checks `consumed`, and only then consumes it, so
     * concurrent requests carrying the same one all pass the check. The database decides which
     * came first; the others are a second use, answered as oidc-provider answers one: the grant and
     * every token issued under it are revoked and the request fails with invalid_grant.
     */
    async consume(id: string): Promise<void> {
      forgetReads(this.model, id);
      if (requestState()?.get(consumedHere(this.model, id)) === true) return;
      await flushDeferred();
      const first = await queries.consume(this.model, id);
      if (first || !SINGLE_USE_GRANTS.has(this.model)) return;
      const grantId = await queries.grantIdOf(this.model, id);
      if (grantId) await queries.revokeGrant(grantId);
      throw new errors.InvalidGrant(`${this.model} already used`);
    }

    async destroy(id: string): Promise<void> {
      forgetReads(this.model, id);
      if (deferred(queries, { kind: 'destroy', model: this.model, id })) {
        remember(`${this.model}\0${id}`, undefined);
        return;
      }
      await flushDeferred();
      await queries.destroy(this.model, id);
    }

    /**
     * oidc-provider revokes a grant through every token model's adapter at once; the DELETE is not
     * per model, so within one request the first call does it and the others wait for it.
     */
    async revokeByGrantId(grantId: string): Promise<void> {
      const reads = requestMemory();
      const key = `revoke\0${grantId}`;
      const running = reads?.get(key);
      if (running) {
        await running;
        return;
      }
      forgetReads();
      const revoking = flushDeferred().then(() => queries.revokeByGrantId(grantId));
      reads?.set(key, revoking);
      try {
        await revoking;
      } finally {
        if (reads?.get(key) === revoking) reads.delete(key);
      }
    }
  };
}
