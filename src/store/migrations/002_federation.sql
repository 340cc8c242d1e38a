-- Every script execution, for the console's log history and for debugging. Bounded in rows and
-- age by a periodic clean-up.
create table script_executions (
  id bigserial primary key,
  connection_id text not null,
  script text not null,
  outcome text not null,
  duration_ms double precision not null,
  message text,
  logs jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now()
);
create index script_executions_created_at on script_executions (created_at desc);
create index script_executions_script on script_executions (script, created_at desc);
create index script_executions_outcome on script_executions (outcome, created_at desc);

-- Failed migrations (conflicts, invalid profiles) so progress reports can count them by kind.
create table migration_failures (
  id bigserial primary key,
  kind text not null,
  legacy_id text,
  detail text,
  created_at timestamptz not null default now()
);
create index migration_failures_created_at on migration_failures (created_at desc);
