import Provider, { errors, type Configuration, type KoaContextWithOIDC, type Account as OidcAccount, type ClientMetadata } from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';
import type { Views } from '../web/views.ts';
import { createAdapterClass } from './adapter.ts';
import { SCOPE_CLAIMS } from './claims.ts';
import { rememberedGrant } from './remembered-grant.ts';
import { rememberClaims, rememberedClaims } from './adapter.ts';
import type { KeyMaterial } from './keys.ts';
import { ACR, interactionPolicyWithMfa } from './mfa-policy.ts';
import { compareHashedSecrets, withStoredClients, type StoredClients } from './stored-clients.ts';

/** Looks up the claims of a subject; undefined when the account no longer exists. */
export type FindClaims = (sub: string, ctx: KoaContextWithOIDC | undefined) => Promise<Record<string, unknown> | undefined>;

export interface ProviderDeps {
  config: Config;
  keys: KeyMaterial;
  models: OidcModelQueries;
  views: Views;
  log: Logger;
  findClaims: FindClaims;
  /** Clients on top of the configured ones (the demo relying party). */
  extraClients?: ClientMetadata[];
  /** Clients kept in Ferry's database (created through the admin API or console). */
  storedClients?: Pick<StoredClients, 'find'>;
}

/**
 * Builds the oidc-provider instance: authorization code with PKCE, refresh tokens with rotation,
 * userinfo, introspection, revocation, RP-initiated logout; keys and storage from Ferry's database.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, keys, views } = deps;
  const customClaims = config.customClaims;
  const configuration: Configuration = {
    adapter: deps.storedClients ? withStoredClients(createAdapterClass(deps.models), deps.storedClients) : createAdapterClass(deps.models),
    clients: [...config.clients, ...(deps.extraClients ?? [])] as ClientMetadata[],
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      // require_mfa: every sign-in to this client needs a second factor (src/oidc/mfa-policy.ts).
      properties: ['skip_consent', 'pkce_optional', 'require_mfa'],
      validator(_ctx, key, value) {
        if (value !== undefined && typeof value !== 'boolean') throw new Error(`${key} must be a boolean`);
      },
    },
    async findAccount(ctx, sub): Promise<OidcAccount | undefined> {
      // Claims carried from the step of this sign-in before (src/oidc/adapter.ts), or looked up now.
      const claims = (await rememberedClaims(sub)) ?? (await deps.findClaims(sub, ctx));
      if (!claims) return undefined;
      rememberClaims(sub, claims);
      return { accountId: sub, claims: () => ({ ...claims, sub }) };
    },
    jwks: { keys: keys.signingKeys as never },
    cookies: {
      keys: keys.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    claims: {
      // `amr`: how the person signed in (RFC 8176: pwd, otp, mfa), and `acr` the class it reached, in every ID token.
      openid: ['sub', 'amr', 'acr'],
      profile: [...SCOPE_CLAIMS.profile, ...customClaims],
      email: [...SCOPE_CLAIMS.email],
      phone: [...SCOPE_CLAIMS.phone],
      address: [...SCOPE_CLAIMS.address],
    },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'phone', 'address'],
    // Claims of the requested scopes go into the ID token too, as most relying parties expect.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    // Every client sends a code_challenge, unless configured as a legacy client that cannot (`pkce_optional`).
    pkce: { required: (_ctx, client) => client.clientAuthMethod === 'none' || (client as unknown as { pkce_optional?: boolean }).pkce_optional !== true },
    features: {
      devInteractions: { enabled: false },
      // Written out (oidc-provider logs a NOTICE for its defaults): a confidential client, such as an
      // API checking the tokens it is sent, may introspect any token; a public client only its own.
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none' || token.clientId === ctx.oidc.client?.clientId,
      },
      // A client revokes only its own tokens; a confidential client asking for another's is told so.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      userinfo: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = await views.render('logout', { title: 'Sign out', form, client: clientName(ctx) });
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = await views.render('logged-out', { title: 'Signed out', client: clientName(ctx) });
        },
      },
    },
    // A client allowed the refresh_token grant gets a refresh token; each use rotates it.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    // Discovery's acr_values_supported; a request with acr_values=urn:ferry:mfa steps up to a second factor.
    acrValues: [ACR.password, ACR.mfa],
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: interactionPolicyWithMfa(config.mfa.required) },
    loadExistingGrant: (ctx) => loadExistingGrant(ctx, deps.models),
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: config.ttl.authorizationCode,
      IdToken: config.ttl.idToken,
      RefreshToken: config.ttl.refreshToken,
      Session: config.ttl.session,
      Interaction: config.ttl.interaction,
      Grant: config.ttl.grant,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = await views.render('error', {
        title: 'Sign-in could not continue',
        message: out.error_description ?? 'The request could not be completed.',
        code: out.error,
      });
    },
  };
  const provider = new Provider(config.issuer, configuration);
  if (deps.storedClients) compareHashedSecrets(provider);
  provider.proxy = config.trustProxy;
  // Koa takes the leftmost X-Forwarded-For entry unless told how many to read from the right.
  if (config.trustProxy) provider.maxIpsCount = config.trustedProxyHops;
  provider.on('server_error', (_ctx, error) => deps.log.error({ err: error }, 'oidc server error'));
  return provider;
}

function clientName(ctx: KoaContextWithOIDC): string | undefined {
  const client = ctx.oidc.client;
  return client ? (client.clientName ?? client.clientId) : undefined;
}

/** First-party clients (`skip_consent`) get their grant without a consent page. */
async function loadExistingGrant(ctx: KoaContextWithOIDC, models: OidcModelQueries) {
  const { oidc } = ctx;
  const client = oidc.client!;
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId);
  const existing = (grantId ? await oidc.provider.Grant.find(grantId) : undefined) ?? (await rememberedGrant(ctx, models));
  if (!(client as unknown as { skip_consent?: boolean }).skip_consent) return existing;
  const scopes = [...oidc.requestParamScopes];
  const claims = [...oidc.requestParamClaims];
  if (existing) {
    // A grant that already holds everything asked for is used as it is: no write on every sign-in.
    const grantedScopes = new Set(existing.getOIDCScope().split(' '));
    const grantedClaims = new Set(existing.getOIDCClaims());
    if (scopes.every((scope) => grantedScopes.has(scope)) && claims.every((claim) => grantedClaims.has(claim))) return existing;
  }
  const grant = existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: oidc.session!.accountId! });
  if (scopes.length > 0) grant.addOIDCScope(scopes.join(' '));
  if (claims.length > 0) grant.addOIDCClaims(claims);
  await grant.save();
  return grant;
}
