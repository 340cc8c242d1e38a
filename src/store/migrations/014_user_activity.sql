-- What an operator sees of a user beyond the profile: sign-ins, and a block. Keyed by subject, so
-- it holds for Ferry's own accounts and for CUSTOM_USER_STORE users alike (Ferry keeps no account
-- row for those). `blocked_identifiers` are a custom-store user's identifiers when they were
-- blocked (kind:value, normalised), for refusing a sign-in before the password is looked at.
create table user_activity (
  sub text primary key,
  sign_in_count integer not null default 0,
  last_sign_in_at timestamptz,
  blocked_at timestamptz,
  blocked_identifiers text[] not null default '{}'
);
create index user_activity_blocked_identifiers on user_activity using gin (blocked_identifiers) where blocked_at is not null;

-- A blocked local account is refused by the read that finds it, with no extra round trip.
alter table accounts add column blocked_at timestamptz;
