import type { Queryable } from '../db.ts';
import { forget } from '../request-scope.ts';
import { ACCOUNT } from './accounts.ts';

export interface PasskeyRow {
  credential_id: string;
  sub: string;
  user_handle: string;
  public_key: Uint8Array;
  counter: number;
  transports: string[];
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
}

export type NewPasskey = Omit<PasskeyRow, 'created_at' | 'last_used_at'>;
export type ChallengePurpose = 'register' | 'second-factor' | 'sign-in';

/**
 * Live challenges kept per purpose and binding: the login page asks once for the browser's
 * autofill and again when the passkey button is pressed; a few more cover a reload or a retry.
 */
export const LIVE_CHALLENGES = 3;

const COLUMNS = 'credential_id, sub, user_handle, public_key, counter::float8 as counter, transports, device_type, backed_up, name, created_at, last_used_at';

/** SQL for passkeys (WebAuthn credentials, keyed by subject) and the challenges of their ceremonies (migration 018). */
export function createPasskeyQueries(db: Queryable) {
  return {
    async of(sub: string): Promise<PasskeyRow[]> {
      const { rows } = await db.query<PasskeyRow>(`select ${COLUMNS} from passkeys where sub = $1 order by created_at, credential_id`, [sub]);
      return rows;
    },

    async find(credentialId: string): Promise<PasskeyRow | undefined> {
      const { rows } = await db.query<PasskeyRow>(`select ${COLUMNS} from passkeys where credential_id = $1`, [credentialId]);
      return rows[0];
    },

    /** False when the credential is registered already (to this subject or another). */
    async add(passkey: NewPasskey): Promise<boolean> {
      forget(ACCOUNT);
      const { rowCount } = await db.query(
        `insert into passkeys (credential_id, sub, user_handle, public_key, counter, transports, device_type, backed_up, name)
         values ($1, $2, $3, $4, $5, $6::text[], $7, $8, $9) on conflict (credential_id) do nothing`,
        [
          passkey.credential_id,
          passkey.sub,
          passkey.user_handle,
          passkey.public_key,
          passkey.counter,
          passkey.transports,
          passkey.device_type,
          passkey.backed_up,
          passkey.name,
        ],
      );
      return rowCount === 1;
    },

    /**
     * Records a use: the new counter and whether the key is synced now. Only from the counter read
     * before the check (of two concurrent uses of one assertion, one gets it): false otherwise.
     */
    async used(credentialId: string, seenCounter: number, newCounter: number, backedUp: boolean): Promise<boolean> {
      const { rowCount } = await db.query('update passkeys set counter = $3, backed_up = $4, last_used_at = now() where credential_id = $1 and counter = $2', [
        credentialId,
        seenCounter,
        newCounter,
        backedUp,
      ]);
      return rowCount === 1;
    },

    async rename(sub: string, credentialId: string, name: string): Promise<boolean> {
      const { rowCount } = await db.query('update passkeys set name = $3 where sub = $1 and credential_id = $2', [sub, credentialId, name]);
      return rowCount === 1;
    },

    /**
     * Removes one of the subject's passkeys; with the last of its second factors gone (no passkey,
     * no TOTP), its recovery codes go too, as when TOTP is turned off.
     */
    async remove(sub: string, credentialId: string): Promise<boolean> {
      forget(ACCOUNT);
      const { rows } = await db.query<{ n: number }>(
        `with gone as (delete from passkeys where sub = $1 and credential_id = $2 returning 1),
         codes as (
           delete from recovery_codes where sub = $1 and exists (select 1 from gone)
             and not exists (select 1 from passkeys where sub = $1 and credential_id <> $2)
             and not exists (select 1 from second_factors where sub = $1 and confirmed_at is not null)
         )
         select count(*)::int as n from gone`,
        [sub, credentialId],
      );
      return (rows[0]?.n ?? 0) > 0;
    },

    /**
     * Keeps a new challenge until `seconds` pass (with the user handle of a registration). Expired
     * ones are cleared on the way, and so are the older ones of the same purpose and binding past
     * the newest LIVE_CHALLENGES: asking for options again and again (from one interaction or one
     * account page) keeps a few rows, not one per request.
     */
    async addChallenge(challenge: string, purpose: ChallengePurpose, binding: string, seconds: number, userHandle?: string): Promise<void> {
      // The statement's snapshot does not show the row it inserts: of those already there, the
      // newest LIVE_CHALLENGES - 1 stay beside it.
      await db.query(
        `with expired as (delete from webauthn_challenges where expires_at < now()),
         older as (
           delete from webauthn_challenges where challenge in (
             select challenge from webauthn_challenges where purpose = $2 and binding = $3
             order by expires_at desc, challenge offset $6::int
           )
         )
         insert into webauthn_challenges (challenge, purpose, binding, user_handle, expires_at) values ($1, $2, $3, $4, now() + $5::int * interval '1 second')`,
        [challenge, purpose, binding, userHandle ?? null, seconds, LIVE_CHALLENGES - 1],
      );
    },

    /**
     * Takes a challenge: once, for the purpose and binding it was made for, before it expires.
     * Answers what it kept (the user handle of a registration, else null), or undefined.
     */
    async takeChallenge(challenge: string, purpose: ChallengePurpose, binding: string): Promise<{ userHandle: string | null } | undefined> {
      const { rows } = await db.query<{ fresh: boolean; user_handle: string | null }>(
        'delete from webauthn_challenges where challenge = $1 and purpose = $2 and binding = $3 returning expires_at > now() as fresh, user_handle',
        [challenge, purpose, binding],
      );
      return rows[0]?.fresh ? { userHandle: rows[0].user_handle } : undefined;
    },
  };
}

export type PasskeyQueries = ReturnType<typeof createPasskeyQueries>;
