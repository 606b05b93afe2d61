-- Key rotation per key: the webhook secret just replaced still signs events, beside the new one,
-- until previous_webhook_secret_until (24 hours), so that an agenda can switch without a gap.
alter table tenants
    add column previous_webhook_secret text,
    add column previous_webhook_secret_until timestamptz;

-- Erasure at Twilio: every message (SM…, MM…) and call (CA…) of an erased appointment is deleted
-- from Twilio's logs as well (a call with its recordings). The Worker works through this list and
-- retries what failed; a row is kept, without anything personal, once done.
create table twilio_deletions (
    sid              text primary key,
    created_at       timestamptz not null,
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,
    done_at          timestamptz,
    last_error       text
);
create index twilio_deletions_due on twilio_deletions (next_attempt_at) where done_at is null;
