-- A sweep walks the connection's listUsers pages and imports every user not yet in Ferry. Its
-- progress lives here, not in a process, so that a crash or a restart resumes at `next_page`
-- (a page imported twice is harmless: the import skips legacy ids it already has). One row per
-- connection; the lease (`lease_owner` until `lease_until`) lets exactly one instance run it, and
-- passes to another when the holder stops renewing it.
create table migration_sweeps (
  connection_id text primary key,
  state text not null check (state in ('running', 'paused', 'done', 'failed')),
  next_page integer not null default 1,
  page_size integer not null,
  delay_ms integer not null default 0,
  lease_seconds integer not null default 60,
  total integer,
  seen integer not null default 0,
  created integer not null default 0,
  skipped integer not null default 0,
  failed integer not null default 0,
  -- The last failures (at most 100): { page, id, error }, for the console and the API.
  failures jsonb not null default '[]'::jsonb,
  last_error text,
  lease_owner text,
  lease_until timestamptz,
  started_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz
);

-- Accounts a sweep created (imported_at is set too), so the migration page can tell them from a bulk import.
alter table accounts add column swept_at timestamptz;
