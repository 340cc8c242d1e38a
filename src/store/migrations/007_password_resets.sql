-- Password reset links: only the SHA-256 of each 256-bit token is kept, so reading this table does
-- not give a working link. A link works once (`used_at`) and until `expires_at`; a completed reset
-- deletes every other link of the same subject.
create table password_resets (
  token_hash text primary key,
  sub text not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index password_resets_sub on password_resets (sub);
create index password_resets_expires_at on password_resets (expires_at);
