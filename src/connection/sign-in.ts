import { parseIdentifier, toScriptQuery, type Identifier } from '../accounts/identifier.ts';
import { accountExists, normaliseIdentifiers, type AccountLibrary, type Registration } from '../accounts/library.ts';
import { adoptableBcryptHash, checkPasswordPolicy, type PasswordPolicy } from '../accounts/passwords.ts';
import { idOfSubject, subjectOf } from '../accounts/subject.ts';
import { Conflict, FerryError, ServiceUnavailable, TooManyRequests } from '../errors.ts';
import type { Logger } from '../log.ts';
import { profileToClaims } from '../oidc/claims.ts';
import type { Outcome } from '../sandbox/index.ts';
import { MESSAGES, localSignIn, type RequestContext, type SignInResult, type SignInService } from '../sign-in/service.ts';
import type { AccountRow, Profile } from '../store/queries/accounts.ts';
import type { ClaimsCache } from './claims-cache.ts';
import { notImplementedMessage, type Connection } from './connection.ts';
import type { LazyMigration } from './lazy-migration.ts';
import { checkProfile } from './profile.ts';
import { scriptContext, type ScriptRunner } from './scripts.ts';
import type { ConnectionSettings } from './settings.ts';
import type { FailureFloor, SignInPath } from './timing.ts';
import type { Metrics } from '../ops/metrics.ts';
import type { Throttle } from '../security/throttle.ts';

export interface FederatedSignInDeps {
  issuer: string;
  subjectPrefix: string;
  customClaims: readonly string[];
  policy: PasswordPolicy;
  accounts: AccountLibrary;
  settings: ConnectionSettings;
  runner: ScriptRunner;
  migration: LazyMigration;
  claimsCache: ClaimsCache;
  floor: FailureFloor;
  throttle: Throttle;
  metrics?: Metrics | undefined;
  log: Logger;
}

const validateProfile = (value: unknown) => {
  const check = checkProfile(value);
  return check.ok ? undefined : check.problem;
};

/**
 * Where a sign-in goes. Without an enabled connection: Ferry's own accounts. LAZY_MIGRATION: a
 * local account wins and is checked locally (the legacy database is never asked about a migrated
 * user); otherwise the `login` script decides and a verified user is migrated. CUSTOM_USER_STORE:
 * the `login` script decides every time. Every failure answers with the same sentence after the
 * same time, unless the legacy side is unavailable.
 */
export function createFederatedSignIn(deps: FederatedSignInDeps): SignInService & {
  changePassword(sub: string, current: string, next: string): Promise<void>;
} {
  const { accounts, settings, runner, log } = deps;
  const subOf = (legacyId: string) => subjectOf(deps.subjectPrefix, legacyId);
  const legacyIdOf = (sub: string) => idOfSubject(deps.subjectPrefix, sub);

  /** Turns a failed script outcome into what the person sees; the script's own words go to the log. */
  const failure = (connection: Connection, outcome: Extract<Outcome, { ok: false }>, script: 'login'): SignInResult => {
    if (outcome.kind === 'script_error') {
      if (outcome.message === notImplementedMessage(script)) return { ok: false, reason: 'unavailable', message: outcome.message, path: 'legacy' };
      return { ok: false, reason: 'invalid_credentials', message: connection.showScriptErrors ? outcome.message : MESSAGES.invalidCredentials, path: 'legacy' };
    }
    if (outcome.kind !== 'unavailable' && outcome.kind !== 'timeout') log.error({ kind: outcome.kind, message: outcome.message }, `${script} script failed`);
    return { ok: false, reason: 'unavailable', message: MESSAGES.unavailable, path: 'legacy' };
  };

  const legacySignIn = async (connection: Connection, identifier: Identifier, password: string, request: RequestContext): Promise<SignInResult> => {
    const context = scriptContext(deps.issuer, request);
    const adopt = connection.mode === 'LAZY_MIGRATION' && connection.adoptLegacyHashes;
    const outcome = await runner.run<Profile>(connection, 'login', [toScriptQuery(identifier), password, context], {
      validate: validateProfile,
      secrets: [password],
      ...(adopt ? { watchPassword: password } : {}),
    });
    if (!outcome.ok) return failure(connection, outcome, 'login');
    const check = checkProfile(outcome.value);
    if (!check.ok) return { ok: false, reason: 'unavailable', message: MESSAGES.unavailable };
    if (connection.mode === 'CUSTOM_USER_STORE') {
      const sub = subOf(check.legacyId);
      deps.claimsCache.set(sub, check.profile, connection.claimsCacheSeconds);
      return { ok: true, sub, path: 'legacy' };
    }
    const adopted = outcome.verifiedBcryptHash && adoptableBcryptHash(outcome.verifiedBcryptHash, password) ? outcome.verifiedBcryptHash : undefined;
    const migrated = await deps.migration.migrate(check.profile, check.legacyId, identifier, password, adopted);
    deps.metrics?.migrations.inc({ result: migrated.ok ? (migrated.created ? 'created' : 'existing') : 'conflict' });
    if (!migrated.ok) return { ok: false, reason: 'conflict', message: MESSAGES.conflict, path: 'legacy' };
    return { ok: true, sub: migrated.account.sub, path: 'legacy' };
  };

  /**
   * A never-migrated local account refused the password. If the legacy database accepts it, a
   * legacy user's identifier was registered by someone else first: fail closed, record the conflict.
   */
  const checkForCapture = async (connection: Connection, identifier: Identifier, password: string, request: RequestContext, refused: SignInResult) => {
    const outcome = await runner.run<Profile>(connection, 'login', [toScriptQuery(identifier), password, scriptContext(deps.issuer, request)], {
      validate: validateProfile,
      secrets: [password],
    });
    if (!outcome.ok) return refused;
    const check = checkProfile(outcome.value);
    if (check.ok) await deps.migration.refuse(check.legacyId, identifier.kind);
    return { ok: false as const, reason: 'unavailable' as const, message: MESSAGES.conflict };
  };

  /** The local account that decides a sign-in, if any: with the connection off or in lazy migration. */
  const localAccountOf = async (connection: Connection, identifier: Identifier) =>
    !connection.enabled || connection.mode === 'LAZY_MIGRATION' ? await accounts.findByIdentifier(identifier) : undefined;

  const route = async (
    connection: Connection,
    local: AccountRow | undefined,
    identifier: Identifier,
    password: string,
    request: RequestContext,
  ): Promise<SignInResult> => {
    if (!connection.enabled) return localSignIn(accounts, identifier, password, log, local);
    if (connection.mode === 'LAZY_MIGRATION') {
      if (local) {
        const result = await localSignIn(accounts, identifier, password, log, local);
        return result.ok || local.legacy_id !== null ? result : checkForCapture(connection, identifier, password, request, result);
      }
    }
    return legacySignIn(connection, identifier, password, request);
  };

  /** Registration must not take an identifier a legacy user owns (in lazy mode they would lose their account). */
  const refuseLegacyDuplicates = async (connection: Connection, registration: Registration, request: RequestContext) => {
    const ids = normaliseIdentifiers(registration);
    for (const field of ['email', 'phone', 'username'] as const) {
      const value = ids[field];
      if (!value) continue;
      const outcome = await runner.run<Profile | null>(connection, 'getUser', [{ [field]: value }, scriptContext(deps.issuer, request)]);
      if (!outcome.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
      if (outcome.value) throw accountExists(field);
    }
  };

  const createInLegacy = async (connection: Connection, registration: Registration, request: RequestContext) => {
    const ids = normaliseIdentifiers(registration);
    checkPasswordPolicy(registration.password, deps.policy);
    const userInfo = { ...ids, password: registration.password, nickname: registration.name || undefined, photo: undefined };
    const outcome = await runner.run<Profile>(connection, 'createUser', [userInfo, scriptContext(deps.issuer, request)], {
      validate: validateProfile,
      secrets: [registration.password],
    });
    if (!outcome.ok) {
      if (outcome.kind !== 'script_error') throw new ServiceUnavailable(MESSAGES.unavailable);
      if (/exist/i.test(outcome.message)) throw new Conflict('An account with these details already exists.', 'account_exists');
      throw new FerryError(connection.showScriptErrors ? outcome.message : 'The account could not be created.', {
        status: 400,
        code: 'registration_failed',
        expose: true,
      });
    }
    const check = checkProfile(outcome.value);
    if (!check.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
    const sub = subOf(check.legacyId);
    deps.claimsCache.set(sub, check.profile, connection.claimsCacheSeconds);
    return { sub };
  };

  return {
    async signIn(raw, password, request) {
      const started = performance.now();
      const identifier = parseIdentifier(raw);
      if (!identifier || !password) {
        deps.metrics?.logins.inc({ outcome: 'invalid_identifier', path: 'none' });
        return { ok: false, reason: 'invalid_identifier', message: MESSAGES.invalidIdentifier };
      }
      // Throttled before the password is looked at, whether or not the account exists; a local
      // account has one count for all its identifiers (and the password page).
      const connection = await settings.current();
      const local = await localAccountOf(connection, identifier);
      const reservation = await deps.throttle.reserve(deps.throttle.keys(local ? { sub: local.sub } : identifier, request.ip));
      if (!reservation.allowed) {
        deps.metrics?.logins.inc({ outcome: 'throttled', path: 'none' });
        return { ok: false, reason: 'throttled', message: throttledMessage(reservation.retryAfterSeconds), retryAfterSeconds: reservation.retryAfterSeconds };
      }
      const result = await route(connection, local, identifier, password, request).catch(async (error: unknown) => {
        await deps.throttle.release(reservation);
        throw error;
      });
      deps.metrics?.logins.inc({ outcome: result.ok ? 'success' : result.reason, path: result.path ?? 'none' });
      if (result.ok) {
        deps.floor.observe(result.path ?? 'local', performance.now() - started);
        await deps.throttle.succeeded(reservation);
      } else if (result.reason === 'invalid_credentials') {
        await deps.throttle.failed(reservation);
        await deps.floor.pad(started, possiblePaths(connection));
      } else {
        await deps.throttle.release(reservation);
      }
      return result;
    },

    /**
     * Throttled like a sign-in, since "already exists" tells whether an identifier has an account:
     * one attempt on each identifier given and, for each of them, one on the client IP (each may
     * cost a getUser run on the legacy database). An answer that the account exists counts as a
     * failure; a registration that succeeds, or fails for another reason, hands its attempts back.
     */
    async register(registration, request) {
      const ids = normaliseIdentifiers(registration);
      checkPasswordPolicy(registration.password, deps.policy);
      const identifiers = (['email', 'phone', 'username'] as const).flatMap((kind) => (ids[kind] ? [{ kind, value: ids[kind] }] : []));
      const keys = identifiers.flatMap((identifier) => deps.throttle.keys(identifier, request.ip));
      const reservation = await deps.throttle.reserve(keys);
      if (!reservation.allowed) {
        throw new TooManyRequests(throttledMessage(reservation.retryAfterSeconds), reservation.retryAfterSeconds);
      }
      try {
        const created = await registerUnthrottled(registration, request);
        await deps.throttle.succeeded(reservation);
        return created;
      } catch (error) {
        if (error instanceof FerryError && error.code === 'account_exists') await deps.throttle.failed(reservation);
        else await deps.throttle.release(reservation);
        throw error;
      }
    },

    async findClaims(sub) {
      const connection = await settings.current();
      if (connection.enabled && connection.mode === 'CUSTOM_USER_STORE') {
        const profile = await customStoreProfile(connection, sub);
        if (profile) return profileToClaims(profile, sub, deps.customClaims);
      }
      const account = await accounts.findBySub(sub);
      return account ? profileToClaims(account.profile, account.sub, deps.customClaims) : undefined;
    },

    /** validatePassword then updateUser in CUSTOM_USER_STORE; Ferry's own hash otherwise. */
    async changePassword(sub, current, next) {
      checkPasswordPolicy(next, deps.policy);
      const connection = await settings.current();
      const legacyId = legacyIdOf(sub);
      if (connection.enabled && connection.mode === 'CUSTOM_USER_STORE' && legacyId !== undefined) {
        const context = scriptContext(deps.issuer, {});
        const valid = await runner.run<boolean>(connection, 'validatePassword', [legacyId, current, context], { secrets: [current] });
        if (!valid.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
        if (valid.value !== true) throw new FerryError('The current password is not correct.', { status: 400, code: 'wrong_password' });
        const updated = await runner.run(connection, 'updateUser', [legacyId, { password: next }, context], { secrets: [next] });
        if (!updated.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
        return;
      }
      const account = await accounts.findBySub(sub);
      if (!account || !(await accounts.verifyPassword(account, current))) {
        throw new FerryError('The current password is not correct.', { status: 400, code: 'wrong_password' });
      }
      await accounts.setPassword(account.id, next);
    },
  };

  async function registerUnthrottled(registration: Registration, request: RequestContext): Promise<{ sub: string }> {
    const connection = await settings.current();
    if (connection.enabled) {
      // As GenAuth does: getUser decides first whether the user already exists, in both modes.
      await refuseLegacyDuplicates(connection, registration, request);
      if (connection.mode === 'CUSTOM_USER_STORE') return createInLegacy(connection, registration, request);
    }
    const account = await accounts.register(registration);
    log.info({ sub: account.sub }, 'account registered');
    return { sub: account.sub };
  }

  async function customStoreProfile(connection: Connection, sub: string): Promise<Profile | undefined> {
    const cached = deps.claimsCache.get(sub);
    if (cached) return cached;
    const legacyId = legacyIdOf(sub);
    if (legacyId === undefined) return undefined;
    const outcome = await runner.run<Profile | null>(connection, 'getUser', [{ id: legacyId }, scriptContext(deps.issuer, {})]);
    if (!outcome.ok) throw new ServiceUnavailable(MESSAGES.unavailable);
    if (!outcome.value) return undefined;
    const check = checkProfile(outcome.value);
    if (!check.ok) return undefined;
    deps.claimsCache.set(sub, check.profile, connection.claimsCacheSeconds);
    return check.profile;
  }
}

/**
 * Where a sign-in may go under the connection as it is now. A failure is held to the slowest of
 * them: in lazy migration an identifier without a local account went to the legacy script, and a
 * wrong password of a migrated user must not answer sooner than that.
 */
function possiblePaths(connection: Connection): SignInPath[] {
  if (!connection.enabled) return ['local'];
  return connection.mode === 'LAZY_MIGRATION' ? ['local', 'legacy'] : ['legacy'];
}

function throttledMessage(seconds: number): string {
  const wait = seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`;
  return `Too many unsuccessful attempts. Please wait ${wait} and try again.`;
}
