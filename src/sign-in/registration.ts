import { accountExists, normaliseIdentifiers, type Registration } from '../accounts/library.ts';
import { checkPasswordPolicy } from '../accounts/passwords.ts';
import { subjectOf } from '../accounts/subject.ts';
import type { Connection } from '../connection/connection.ts';
import { failureOf } from '../connection/failures.ts';
import { checkProfile } from '../connection/profile.ts';
import { scriptContext } from '../connection/scripts.ts';
import { Conflict, FerryError, ServiceUnavailable, TooManyRequests } from '../errors.ts';
import type { Profile } from '../store/queries/accounts.ts';
import { modeOf, type SignInParts } from './parts.ts';
import { MESSAGES, type RequestContext } from './service.ts';
import { profileProblem } from './steps/login-script.ts';
import { throttledMessage } from './steps/throttle.ts';

const IDENTIFIER_FIELDS = ['email', 'phone', 'username'] as const;

/**
 * Registration from the hosted page. Throttled like a sign-in, since "already exists" tells whether
 * an identifier has an account: one attempt on each identifier given and, for each of them, one on
 * the client IP (each may cost a getUser run on the legacy database). An answer that the account
 * exists counts as a failure; a registration that succeeds, or fails for another reason, hands its
 * attempts back.
 */
export function createRegistration(parts: SignInParts) {
  /** Registration must not take an identifier a legacy user owns (in lazy mode they would lose their account). */
  const refuseLegacyDuplicates = async (connection: Connection, registration: Registration, request: RequestContext) => {
    const ids = normaliseIdentifiers(registration);
    for (const field of IDENTIFIER_FIELDS) {
      const value = ids[field];
      if (!value) continue;
      const outcome = await parts.runner.run<Profile | null>(connection, 'getUser', [{ [field]: value }, scriptContext(parts.issuer, request)]);
      if (!outcome.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
      if (outcome.value) throw accountExists(field);
    }
  };

  const createInLegacy = async (connection: Connection, registration: Registration, request: RequestContext) => {
    const ids = normaliseIdentifiers(registration);
    checkPasswordPolicy(registration.password, parts.policy);
    const userInfo = { ...ids, password: registration.password, nickname: registration.name || undefined, photo: undefined };
    const outcome = await parts.runner.run<Profile>(connection, 'createUser', [userInfo, scriptContext(parts.issuer, request)], {
      validate: profileProblem,
      secrets: [registration.password],
    });
    if (!outcome.ok) {
      const { rule } = failureOf(outcome, 'createUser');
      if (rule.registration === 'unavailable') throw new ServiceUnavailable(MESSAGES.unavailable);
      if (rule.registration === 'exists') throw new Conflict('An account with these details already exists.', 'account_exists');
      throw new FerryError(connection.showScriptErrors ? outcome.message : 'The account could not be created.', {
        status: 400,
        code: 'registration_failed',
        expose: true,
      });
    }
    const check = checkProfile(outcome.value);
    if (!check.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
    const sub = subjectOf(parts.subjectPrefix, check.legacyId);
    parts.claimsCache.set(sub, check.profile, connection.claimsCacheSeconds);
    return { sub };
  };

  const registerUnthrottled = async (registration: Registration, request: RequestContext): Promise<{ sub: string }> => {
    const connection = await parts.settings.current();
    const mode = modeOf(connection);
    // As GenAuth does: getUser decides first whether the user already exists, in both modes.
    if (mode !== 'local') await refuseLegacyDuplicates(connection, registration, request);
    if (mode === 'CUSTOM_USER_STORE') return createInLegacy(connection, registration, request);
    const account = await parts.accounts.register(registration);
    parts.log.info({ sub: account.sub }, 'account registered');
    return { sub: account.sub };
  };

  return async function register(registration: Registration, request: RequestContext): Promise<{ sub: string }> {
    const ids = normaliseIdentifiers(registration);
    checkPasswordPolicy(registration.password, parts.policy);
    const identifiers = IDENTIFIER_FIELDS.flatMap((kind) => (ids[kind] ? [{ kind, value: ids[kind] }] : []));
    const keys = identifiers.flatMap((identifier) => parts.throttle.keys(identifier, request.ip));
    const reservation = await parts.throttle.reserve(keys);
    if (!reservation.allowed) throw new TooManyRequests(throttledMessage(reservation.retryAfterSeconds), reservation.retryAfterSeconds);
    try {
      const created = await registerUnthrottled(registration, request);
      // Registering signs the person in: counted as a sign-in.
      await parts.throttle.succeeded(reservation, created.sub);
      return created;
    } catch (error) {
      if (error instanceof FerryError && error.code === 'account_exists') await parts.throttle.failed(reservation);
      else await parts.throttle.release(reservation);
      throw error;
    }
  };
}
