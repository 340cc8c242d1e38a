-- Mail waiting to be sent, being sent, sent or given up, shared by every instance. An instance
-- takes due mails with FOR UPDATE SKIP LOCKED and marks them 'sending', moving `next_attempt_at`
-- to the end of its lease: no other instance takes the mail before then, so each is sent once
-- unless its sender died mid-way (then again after the lease: at least once). 'held' mails were
-- queued without an SMTP server configured and are never sent; they are kept for the console.
create table mail_outbox (
  id bigserial primary key,
  template text not null,
  recipient text not null,
  subject text not null,
  text_body text,
  html_body text,
  message_id text not null,
  status text not null check (status in ('queued', 'sending', 'sent', 'failed', 'held')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now(),
  sent_at timestamptz
);
create index mail_outbox_due on mail_outbox (next_attempt_at) where status in ('queued', 'sending');
create index mail_outbox_created_at on mail_outbox (created_at);
