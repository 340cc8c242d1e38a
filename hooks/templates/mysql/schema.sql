-- The legacy users table the MySQL templates are written for (the seeds' "users" table), for
-- MySQL 5.7+/8 and MariaDB 10.3+. Passwords are bcrypt hashes. Uniqueness is enforced here, not in
-- the scripts: two concurrent createUser calls for one email cannot both succeed. With the
-- default case-insensitive collation the unique keys are case-insensitive too.
CREATE TABLE users (
  id             INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email          VARCHAR(255) NULL,
  phone          VARCHAR(32) NULL,
  username       VARCHAR(64) NULL,
  password       VARCHAR(255) NULL,
  name           VARCHAR(255) NULL,
  nickname       VARCHAR(255) NULL,
  photo          TEXT NULL,
  token          TEXT NULL,
  email_verified TINYINT(1) NOT NULL DEFAULT 0,
  phone_verified TINYINT(1) NOT NULL DEFAULT 0,
  logins_count   INT NOT NULL DEFAULT 0,
  last_ip        VARCHAR(64) NULL,
  gender         VARCHAR(16) NULL,
  address        TEXT NULL,
  company        VARCHAR(255) NULL,
  birthdate      DATE NULL,
  website        TEXT NULL,
  created_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at     TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  UNIQUE KEY users_email_key (email),
  UNIQUE KEY users_username_key (username),
  UNIQUE KEY users_phone_key (phone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
