import { idOfSubject } from '../accounts/subject.ts';
import type { Connection } from '../connection/connection.ts';
import { checkProfile } from '../connection/profile.ts';
import { scriptContext } from '../connection/scripts.ts';
import { ServiceUnavailable } from '../errors.ts';
import { profileToClaims } from '../oidc/claims.ts';
import type { Profile } from '../store/queries/accounts.ts';
import { modeOf, type SignInParts } from './parts.ts';
import { MESSAGES } from './service.ts';

/**
 * The claims of a subject for ID tokens and userinfo. In CUSTOM_USER_STORE they come from the
 * claims cache or `getUser` (Ferry keeps no copy); otherwise, and for a subject the legacy side
 * does not know, from Ferry's own account.
 */
export function createClaimsLookup(parts: SignInParts) {
  const legacyProfile = async (connection: Connection, sub: string): Promise<Profile | undefined> => {
    const cached = parts.claimsCache.get(sub);
    if (cached) return cached;
    const legacyId = idOfSubject(parts.subjectPrefix, sub);
    if (legacyId === undefined) return undefined;
    const outcome = await parts.runner.run<Profile | null>(connection, 'getUser', [{ id: legacyId }, scriptContext(parts.issuer, {})]);
    if (!outcome.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
    if (!outcome.value) return undefined;
    const check = checkProfile(outcome.value);
    if (!check.ok) return undefined;
    parts.claimsCache.set(sub, check.profile, connection.claimsCacheSeconds);
    return check.profile;
  };

  return async function findClaims(sub: string): Promise<Record<string, unknown> | undefined> {
    const connection = await parts.settings.current();
    if (modeOf(connection) === 'CUSTOM_USER_STORE') {
      const profile = await legacyProfile(connection, sub);
      if (profile) return profileToClaims(profile, sub, parts.customClaims);
    }
    // A blocked account has no claims: a refresh grant (or anything else that looks it up) fails.
    const account = await parts.accounts.findBySub(sub);
    return account && !account.blocked_at ? profileToClaims(account.profile, account.sub, parts.customClaims) : undefined;
  };
}
