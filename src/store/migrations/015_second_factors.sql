-- Second factors, keyed by the OIDC subject so that they work the same for Ferry's own accounts
-- and for a custom user store's users (whose scripts have no place for them).
-- A TOTP factor is usable once `confirmed_at` is set (the person typed a first code); `last_step`
-- is the last 30-second step a code was accepted for, so each code works once.
create table second_factors (
  sub text not null,
  kind text not null check (kind in ('totp')),
  secret text not null,
  confirmed_at timestamptz,
  last_step bigint,
  created_at timestamptz not null default now(),
  primary key (sub, kind)
);

-- Recovery codes: only their SHA-256 is kept (each is 50 random bits, shown once); each works once.
create table recovery_codes (
  sub text not null,
  code_hash text not null,
  used_at timestamptz,
  created_at timestamptz not null default now(),
  primary key (sub, code_hash)
);
