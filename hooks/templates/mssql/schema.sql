-- The legacy users table the SQL Server templates are written for (the seeds' "users" table),
-- for SQL Server 2016+ / Azure SQL. Passwords are bcrypt hashes.
CREATE TABLE users (
  id             INT IDENTITY(1,1) NOT NULL PRIMARY KEY,
  email          NVARCHAR(255) NULL,
  phone          NVARCHAR(32) NULL,
  username       NVARCHAR(64) NULL,
  password       NVARCHAR(255) NULL,
  name           NVARCHAR(255) NULL,
  nickname       NVARCHAR(255) NULL,
  photo          NVARCHAR(MAX) NULL,
  token          NVARCHAR(MAX) NULL,
  email_verified BIT NOT NULL CONSTRAINT users_email_verified_default DEFAULT 0,
  phone_verified BIT NOT NULL CONSTRAINT users_phone_verified_default DEFAULT 0,
  logins_count   INT NOT NULL CONSTRAINT users_logins_count_default DEFAULT 0,
  last_ip        NVARCHAR(64) NULL,
  gender         NVARCHAR(16) NULL,
  address        NVARCHAR(MAX) NULL,
  company        NVARCHAR(255) NULL,
  birthdate      DATE NULL,
  website        NVARCHAR(MAX) NULL,
  created_at     DATETIME2 NOT NULL CONSTRAINT users_created_at_default DEFAULT SYSUTCDATETIME(),
  updated_at     DATETIME2 NOT NULL CONSTRAINT users_updated_at_default DEFAULT SYSUTCDATETIME()
);

-- Uniqueness is enforced here, not in the scripts: two concurrent createUser calls for one email
-- cannot both succeed (error 2601). Filtered indexes, because a UNIQUE constraint would allow
-- only one NULL; with the default case-insensitive collation (*_CI_*) they are case-insensitive.
CREATE UNIQUE INDEX users_email_key ON users (email) WHERE email IS NOT NULL;
CREATE UNIQUE INDEX users_username_key ON users (username) WHERE username IS NOT NULL;
CREATE UNIQUE INDEX users_phone_key ON users (phone) WHERE phone IS NOT NULL;
