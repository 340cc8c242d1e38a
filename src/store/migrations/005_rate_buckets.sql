-- The admin API's token buckets, one per client address, shared by every instance so that N
-- instances do not allow N times the rate. `taken` is the last request's answer. A bucket idle
-- long enough to be full again is deleted.
create table rate_buckets (
  key text primary key,
  tokens double precision not null,
  taken boolean not null,
  updated_at timestamptz not null
);
create index rate_buckets_updated_at on rate_buckets (updated_at);
