-- The legacy users table the PostgreSQL templates are written for (the seeds' "users" table).
-- Passwords are bcrypt hashes. Uniqueness is enforced here, not in the scripts: two concurrent
-- createUser calls for one email cannot both succeed.
CREATE TABLE users (
  id             serial PRIMARY KEY,
  email          varchar(255),
  phone          varchar(32),
  username       varchar(64),
  password       varchar(255),
  name           varchar(255),
  nickname       varchar(255),
  photo          text,
  token          text,
  email_verified boolean NOT NULL DEFAULT false,
  phone_verified boolean NOT NULL DEFAULT false,
  logins_count   integer NOT NULL DEFAULT 0,
  last_ip        varchar(64),
  gender         varchar(16),
  address        text,
  company        varchar(255),
  birthdate      date,
  website        text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Emails and usernames are compared case-insensitively (lower(email) = lower($1)); these indexes
-- make that lookup fast and the uniqueness case-insensitive.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_phone_key ON users (phone);
