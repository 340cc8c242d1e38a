-- Failed password checks per account (normalised identifier) and per client IP, shared by every
-- instance. A row disappears when its key signs in successfully or its window passes.
create table login_throttle (
  key text primary key,
  failures integer not null,
  last_failure_at timestamptz not null,
  blocked_until timestamptz
);
create index login_throttle_last_failure_at on login_throttle (last_failure_at);
