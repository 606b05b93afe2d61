-- One Twilio account, many Workers (issue 28, contract §9.8): Twilio__MaxRequestsPerSecond (and
-- Twilio__MaxCallsPerSecond for calls) is the account's rate, shared by every Worker on this database.
-- One row per bucket is the token bucket: refilled lazily by the statement that takes tokens
-- (AccountRateLimiter), from the database's clock, so that Workers on different machines share one
-- time. No row is needed in advance: the first take inserts it (a test's reset empties the table).
create table account_rate (
    bucket       text primary key,
    tokens       double precision not null,
    granted      integer not null,
    refilled_at  timestamptz not null
);
