-- Email verification links: only the SHA-256 of each 256-bit token is kept, so reading this table
-- does not give a working link. A link works once (`used_at`) and until `expires_at`, and only for
-- the address it was sent to (`email`): after the address changes it verifies nothing.
create table email_verifications (
  token_hash text primary key,
  sub text not null,
  email text not null,
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index email_verifications_sub on email_verifications (sub, created_at);
create index email_verifications_expires_at on email_verifications (expires_at);
