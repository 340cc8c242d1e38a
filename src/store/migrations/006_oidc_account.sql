-- oidc-provider's sessions, grants and tokens by the account they belong to, so that an admin
-- password reset or account deletion can end all of them at once.
create index oidc_models_account_id on oidc_models ((payload ->> 'accountId')) where payload ? 'accountId';
