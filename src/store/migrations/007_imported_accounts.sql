-- Accounts created by a bulk import (or a sweep) rather than by their user's first sign-in, so the
-- migration report can tell them apart. Numbered 007 because 006 is taken on another branch.
alter table accounts add column imported_at timestamptz;
