-- Scripts kept in Ferry's database (when the connection has no scripts folder), every version
-- kept so that any one can be restored.
create table scripts (
  connection_id text not null,
  name text not null,
  version integer not null,
  source text not null,
  note text,
  created_at timestamptz not null default now(),
  primary key (connection_id, name, version)
);
