-- Named admins: admin API keys, each with a name and a role (src/admin/roles.ts). Only the key's
-- SHA-256 is kept (hex): the key is shown once at creation and the database never holds one that
-- works. Revoking deletes the row, so the next request with that key is refused at once.
create table admin_keys (
  id text primary key,
  name text not null unique,
  role text not null check (role in ('owner', 'operator', 'script-editor', 'viewer')),
  key_sha256 text not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);
