-- Passkeys (WebAuthn credentials), keyed by the OIDC subject like the other second factors
-- (migration 015), so they work the same for Ferry's own accounts, migrated ones and a custom user
-- store's users. `credential_id` is the authenticator's id (base64url), unique across every
-- subject; `user_handle` is the random id (base64url) the authenticator keeps for the subject and
-- hands back at a passwordless sign-in. `counter` is the signature counter: an authenticator that
-- counts must show a larger one each time (0 for those that never count, synced passkeys).
-- `backed_up` says the key is synced between devices (a cloud keychain): `swk` rather than `hwk`.
create table passkeys (
  credential_id text primary key,
  sub text not null,
  user_handle text not null,
  public_key bytea not null,
  counter bigint not null default 0,
  transports text[] not null default '{}',
  device_type text not null check (device_type in ('singleDevice', 'multiDevice')),
  backed_up boolean not null,
  name text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
create index passkeys_sub on passkeys (sub);

-- The challenges of WebAuthn ceremonies in progress: each is taken (deleted) by the first response
-- that names it, so it works once, and only for what it was made for (`purpose`) and for whom
-- (`binding`: the Ferry session and subject of the account page, or the sign-in's interaction).
-- A registration's challenge keeps the user handle its options gave the authenticator.
create table webauthn_challenges (
  challenge text primary key,
  purpose text not null check (purpose in ('register', 'second-factor', 'sign-in')),
  binding text not null,
  user_handle text,
  expires_at timestamptz not null
);
create index webauthn_challenges_expiry on webauthn_challenges (expires_at);
