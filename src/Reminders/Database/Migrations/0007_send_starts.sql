-- A send that has reached Twilio (or is about to, with its rate-limiter permit in hand) is written
-- here, committed on a connection of its own, before the request leaves. It tells recovery which
-- claims left behind by a crash may be at Twilio (ask Twilio first) and which never left (pending at
-- once). It cannot be a column of messages: the sending transaction holds that row locked until the
-- result is written, so that recovery (FOR UPDATE SKIP LOCKED) never acts on a message being sent.
-- No foreign key either: its check would wait on that same lock.
create table message_sends (
    message_id   uuid not null,
    claim_token  uuid not null,
    started_at   timestamptz not null,
    primary key (message_id, claim_token)
);
