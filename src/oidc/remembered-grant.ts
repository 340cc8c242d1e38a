import type { KoaContextWithOIDC } from 'oidc-provider';
import type { OidcModelQueries } from '../store/queries/oidc-models.ts';
import { primeRead, rememberedLiveGrant } from './adapter.ts';

/**
 * A grant (consent) the signed-in account gave this client in an earlier browser session.
 * oidc-provider finds a grant only through the session that made it, so without this a user who
 * allowed an app is asked again in every new browser. A grant lasts until `ttl.grant` ends or it
 * is revoked (refresh token revocation, sign-out of a grant without offline access, password
 * reset, account deletion): then it is not found and consent is asked again. Scopes or claims the
 * grant lacks are still asked for (oidc-provider compares the request with the grant).
 */
export async function rememberedGrant(ctx: KoaContextWithOIDC, models: Pick<OidcModelQueries, 'liveGrant'>) {
  const { oidc } = ctx;
  const accountId = oidc.account?.accountId ?? oidc.session?.accountId;
  const clientId = oidc.client?.clientId;
  if (!accountId || !clientId) return undefined;
  // At the resume the interaction's read brought it along (adapter.ts).
  const prefetched = await rememberedLiveGrant(accountId, clientId);
  const found = prefetched ? prefetched.grant : await models.liveGrant(accountId, clientId);
  if (!found) return undefined;
  // The row came with its payload: oidc-provider's Grant.find reads it from this request's reads.
  primeRead('Grant', found.id, found.payload);
  return await oidc.provider.Grant.find(found.id);
}
