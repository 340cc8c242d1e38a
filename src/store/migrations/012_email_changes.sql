-- An email verification link can also change the account's address: `change` links are sent to
-- the new address from the account page and, when used, make it the account's (verified) address.
-- Until then the account keeps its old address, so a typo or an address the user does not own
-- changes nothing.
alter table email_verifications add column change boolean not null default false;
