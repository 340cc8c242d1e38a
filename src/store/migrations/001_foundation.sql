-- Accounts Ferry stores itself: registered locally, or migrated from a legacy database.
-- Identifiers are stored normalised; uniqueness is the database's job, not the code's.
create table accounts (
  id text primary key,
  sub text not null unique,
  email text,
  phone text,
  username text,
  password_hash text,
  profile jsonb not null default '{}'::jsonb,
  legacy_id text,
  migrated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index accounts_email_key on accounts (email) where email is not null;
create unique index accounts_phone_key on accounts (phone) where phone is not null;
create unique index accounts_username_key on accounts (username) where username is not null;
create unique index accounts_legacy_id_key on accounts (legacy_id) where legacy_id is not null;

-- Everything oidc-provider persists: sessions, interactions, grants, codes, tokens.
create table oidc_models (
  model text not null,
  id text not null,
  payload jsonb not null,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  primary key (model, id)
);
create index oidc_models_grant_id on oidc_models (grant_id) where grant_id is not null;
create index oidc_models_uid on oidc_models (model, uid) where uid is not null;
create index oidc_models_user_code on oidc_models (model, user_code) where user_code is not null;
create index oidc_models_expires_at on oidc_models (expires_at) where expires_at is not null;

-- Private signing keys; the newest active key signs, retired keys stay published until they expire.
create table signing_keys (
  kid text primary key,
  jwk jsonb not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);

-- Small named values the instances share (cookie keys and the like).
create table settings (
  key text primary key,
  value jsonb not null,
  updated_at timestamptz not null default now()
);
