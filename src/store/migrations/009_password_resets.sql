-- Password reset links: only the SHA-256 of each 256-bit token is kept, so reading this table does
-- not give a working link. A link works once (`used_at`) and until `expires_at`; a completed reset
-- deletes every other link of the same subject. A lazy-migration user who never signed in has no
-- account yet: `legacy_id` and the identifier they typed let the reset migrate them.
create table password_resets (
  token_hash text primary key,
  sub text not null,
  legacy_id text,
  identifier_kind text,
  identifier_value text,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index password_resets_sub on password_resets (sub);
create index password_resets_expires_at on password_resets (expires_at);
