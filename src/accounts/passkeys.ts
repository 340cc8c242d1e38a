import { randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Logger } from '../log.ts';
import type { ChallengePurpose, PasskeyQueries, PasskeyRow } from '../store/queries/passkeys.ts';
import type { SecondFactors } from './second-factor.ts';

/** How long a ceremony's challenge works: the browser's own timeout is the same. */
const CHALLENGE_SECONDS = 300;
const MAX_NAME_CHARS = 64;
/** A browser's response is a few kilobytes; anything far larger is not one. */
const MAX_RESPONSE_CHARS = 64_000;

export interface PasskeySummary {
  id: string;
  name: string;
  synced: boolean;
  createdAt: Date;
  lastUsedAt: Date | null;
}

export type PasskeyCheck = { ok: true; sub: string; amr: string[] } | { ok: false };

/**
 * RFC 8176 for a key: a passkey synced between devices (backed up to a cloud keychain) is a
 * software-secured key, `swk`; one bound to its device (a security key, a platform authenticator
 * that does not sync) is hardware-secured, `hwk`.
 */
const keyAmr = (backedUp: boolean) => (backedUp ? 'swk' : 'hwk');

const parseJson = <T>(value: string): T | undefined => {
  if (value.length === 0 || value.length > MAX_RESPONSE_CHARS) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return parsed && typeof parsed === 'object' && typeof (parsed as { id?: unknown }).id === 'string' ? (parsed as T) : undefined;
  } catch {
    return undefined;
  }
};

/** A name for a passkey as its owner typed it: trimmed, at most 64 characters; undefined when empty. */
export function passkeyName(value: string | undefined): string | undefined {
  const name = (value ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
  return name ? name.slice(0, MAX_NAME_CHARS) : undefined;
}

/**
 * Passkeys (WebAuthn credentials) of a subject, kept by Ferry keyed by `sub` for every kind of
 * account (local, migrated, a custom user store's). The relying-party id is the issuer's host
 * name and the only origin accepted is the issuer's. Each ceremony's challenge is kept in the
 * store, bound to who asked (`binding`) and to what for, and taken by the first response that
 * names it. A passkey is a second factor after a password (user verification preferred) and, with
 * user verification required, a sign-in on its own.
 */
export function createPasskeys(deps: {
  issuer: string;
  rpName: string;
  queries: PasskeyQueries;
  /** The first passkey of a subject without TOTP or recovery codes gets ten recovery codes, as TOTP does. */
  secondFactors: Pick<SecondFactors, 'status' | 'firstRecoveryCodes'>;
  log: Logger;
  /** Ends the subject's sessions but one, when a passkey is removed. */
  sessions?: { endOthers(sub: string, keepSession?: string): Promise<number> } | undefined;
  audit?: { record(event: { type: string; actor?: string; subject?: string; detail?: Record<string, unknown> }): void } | undefined;
}) {
  const { queries, log } = deps;
  const { origin, hostname: rpID } = new URL(deps.issuer);

  const summary = (row: PasskeyRow): PasskeySummary => ({
    id: row.credential_id,
    name: row.name,
    synced: row.backed_up,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  });

  const authenticationOptions = async (purpose: ChallengePurpose, binding: string, sub?: string): Promise<PublicKeyCredentialRequestOptionsJSON> => {
    const own = sub === undefined ? [] : await queries.of(sub);
    const options = await generateAuthenticationOptions({
      rpID,
      allowCredentials: own.map((row) => ({ id: row.credential_id, transports: row.transports })),
      userVerification: purpose === 'sign-in' ? 'required' : 'preferred',
      timeout: CHALLENGE_SECONDS * 1000,
    });
    await queries.addChallenge(options.challenge, purpose, binding, CHALLENGE_SECONDS);
    return options;
  };

  return {
    async list(sub: string): Promise<PasskeySummary[]> {
      return (await queries.of(sub)).map(summary);
    },

    /** Options for registering a new passkey of `sub` (discoverable, so it can sign in on its own); the authenticator names it `user`. */
    async registrationOptions(sub: string, binding: string, user: { name: string; displayName: string }): Promise<PublicKeyCredentialCreationOptionsJSON> {
      const own = await queries.of(sub);
      // One user handle per subject, random (WebAuthn: no personal data in it), so a passwordless sign-in finds the subject.
      const userHandle = own[0]?.user_handle ?? randomBytes(32).toString('base64url');
      const options = await generateRegistrationOptions({
        rpName: deps.rpName,
        rpID,
        userName: user.name,
        userDisplayName: user.displayName,
        userID: new Uint8Array(Buffer.from(userHandle, 'base64url')),
        attestationType: 'none',
        excludeCredentials: own.map((row) => ({ id: row.credential_id, transports: row.transports })),
        authenticatorSelection: { residentKey: 'required', requireResidentKey: true, userVerification: 'preferred' },
        timeout: CHALLENGE_SECONDS * 1000,
      });
      await queries.addChallenge(options.challenge, 'register', binding, CHALLENGE_SECONDS, userHandle);
      return options;
    },

    /**
     * Verifies a registration (`response`: the browser's PublicKeyCredential as JSON) against a
     * challenge this `binding` was given, and keeps the passkey. Answers the recovery codes to show
     * once when it is the subject's first factor and the key's `amr` (`hwk`/`swk`), or undefined
     * when the response is not good.
     */
    async register(sub: string, binding: string, response: string, name?: string): Promise<{ codes: string[] | undefined; amr: string } | undefined> {
      const parsed = parseJson<RegistrationResponseJSON>(response);
      if (!parsed) return undefined;
      let userHandle: string | null = null;
      let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verification = await verifyRegistrationResponse({
          response: parsed,
          expectedChallenge: async (challenge) => {
            const taken = await queries.takeChallenge(challenge, 'register', binding);
            userHandle = taken?.userHandle ?? null;
            return userHandle !== null;
          },
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: false,
        });
      } catch (error) {
        log.info({ sub, reason: (error as Error).message }, 'passkey registration refused');
        return undefined;
      }
      if (!verification.verified || userHandle === null) return undefined;
      const info = verification.registrationInfo;
      const before = await deps.secondFactors.status(sub);
      const count = (await queries.of(sub)).length;
      const added = await queries.add({
        credential_id: info.credential.id,
        sub,
        user_handle: userHandle,
        public_key: info.credential.publicKey,
        counter: info.credential.counter,
        transports: info.credential.transports ?? [],
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp,
        name: passkeyName(name) ?? `Passkey ${count + 1}`,
      });
      if (!added) return undefined;
      log.info({ sub }, 'passkey added');
      deps.audit?.record({ type: 'passkey.added', actor: 'user', subject: sub, detail: { synced: info.credentialBackedUp } });
      const firstFactor = !before.totp && count === 0 && before.recoveryCodesLeft === 0;
      return { codes: firstFactor ? await deps.secondFactors.firstRecoveryCodes(sub) : undefined, amr: keyAmr(info.credentialBackedUp) };
    },

    /** Options for the second step of `sub`'s sign-in: one of their passkeys. */
    secondFactorOptions: (binding: string, sub: string) => authenticationOptions('second-factor', binding, sub),
    /** Options for a passwordless sign-in: any discoverable passkey, user verification required. */
    signInOptions: (binding: string) => authenticationOptions('sign-in', binding),

    /**
     * Verifies an assertion against a challenge `binding` was given for `purpose`: for the second
     * step, by one of `sub`'s passkeys; for a sign-in, by any passkey whose user handle matches,
     * user-verified. The counter must move on where the authenticator counts. Answers the subject
     * and `amr`: the key (`hwk`/`swk`) and `mfa`, after `pwd` for a second step. A passkey with
     * user verification is two factors in one (something held, unlocked by something known or
     * something the user is), so a passwordless sign-in is multi-factor too.
     */
    async authenticate(purpose: 'second-factor' | 'sign-in', binding: string, response: string, sub?: string): Promise<PasskeyCheck> {
      const parsed = parseJson<AuthenticationResponseJSON>(response);
      const row = parsed && (await queries.find(parsed.id));
      if (!parsed || !row) return { ok: false };
      if (purpose === 'second-factor' ? row.sub !== sub : parsed.response?.userHandle !== row.user_handle) return { ok: false };
      let verification: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
      try {
        verification = await verifyAuthenticationResponse({
          response: parsed,
          expectedChallenge: async (challenge) => (await queries.takeChallenge(challenge, purpose, binding)) !== undefined,
          expectedOrigin: origin,
          expectedRPID: rpID,
          credential: { id: row.credential_id, publicKey: new Uint8Array(row.public_key), counter: Number(row.counter), transports: row.transports },
          requireUserVerification: purpose === 'sign-in',
        });
      } catch (error) {
        // A wrong challenge, origin or signature, or a counter that went back (a cloned authenticator).
        log.info({ sub: row.sub, reason: (error as Error).message }, 'passkey refused');
        return { ok: false };
      }
      const info = verification.authenticationInfo;
      if (!verification.verified || !(await queries.used(row.credential_id, Number(row.counter), info.newCounter, info.credentialBackedUp)))
        return { ok: false };
      const key = keyAmr(info.credentialBackedUp);
      return { ok: true, sub: row.sub, amr: purpose === 'sign-in' ? [key, 'mfa'] : ['pwd', key, 'mfa'] };
    },

    async rename(sub: string, id: string, name: string | undefined): Promise<boolean> {
      const clean = passkeyName(name);
      return clean !== undefined && queries.rename(sub, id, clean);
    },

    /** Removes one of `sub`'s passkeys, by the user in the session `keepSession`: the others end. */
    async remove(sub: string, id: string, keepSession?: string): Promise<boolean> {
      const removed = await queries.remove(sub, id);
      if (removed) {
        const sessionsEnded = (await deps.sessions?.endOthers(sub, keepSession)) ?? 0;
        log.info({ sub, sessionsEnded }, 'passkey removed');
        deps.audit?.record({ type: 'passkey.removed', actor: 'user', subject: sub, detail: { sessionsEnded } });
      }
      return removed;
    },
  };
}

export type Passkeys = ReturnType<typeof createPasskeys>;
