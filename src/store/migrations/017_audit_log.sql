-- The audit log: who did what, when, from where. Sign-in events carry the identifier hashed
-- (SHA-256), never as typed and never a password; admin changes carry what changed, secrets masked.
-- Newest first by id (the cursor of GET /api/v1/audit); pruned by age (audit.retentionDays).
create table audit_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  type text not null,
  actor text,
  subject text,
  identifier_hash text,
  ip text,
  client_id text,
  outcome text,
  detail jsonb not null default '{}'
);
create index audit_events_type on audit_events (type, id);
create index audit_events_subject on audit_events (subject, id) where subject is not null;
create index audit_events_at on audit_events (at);
