-- What each tenant used, per month (GET /v1/usage, /v1/admin/usage, budgets), counted as
-- messages are sent rather than scanned from messages when asked: the answer reads a few dozen
-- rows whatever the month's volume (docs/BENCHMARKS.md, "Usage").
--
-- Months are UTC calendar months, as on Twilio's invoices, which is what an operator re-bills.
-- An SMS counts once, when it first becomes sent or delivered (whatever path sets it: a send, a
-- reconciliation after a crash, a late status callback), with its segments (1 when unknown, as
-- after a reconciliation). A call counts when its status callback says completed, with the
-- duration Twilio gives (CallDuration), billed in whole minutes rounded up per call as Twilio
-- bills it; a call nobody answered (busy, no-answer) costs nothing and is not counted. Replies
-- from citizens (inbound) are not counted.

-- The seconds of an answered call, from its status callback.
alter table messages add column call_seconds integer;

-- Each (tenant, month, channel, kind) is spread over 8 rows (shard, from the message id): two
-- Workers recording sends of one tenant at 9:00 would otherwise queue on one row lock in every
-- send transaction. A reader sums the shards.
create table usage_counters (
    tenant_id     bigint not null references tenants (id),
    month         date not null,
    channel       text not null,
    kind          text not null,
    shard         smallint not null,
    messages      integer not null default 0,
    segments      bigint not null default 0,
    calls         integer not null default 0,
    call_seconds  bigint not null default 0,
    minutes       bigint not null default 0,
    primary key (tenant_id, month, channel, kind, shard)
);
create index usage_counters_month on usage_counters (month);

create function usage_track() returns trigger
language plpgsql as $$
begin
    if new.channel = 'sms' then
        insert into usage_counters as u (tenant_id, month, channel, kind, shard, messages, segments)
        values (new.tenant_id, date_trunc('month', coalesce(new.sent_at, new.updated_at) at time zone 'UTC')::date,
                'sms', new.kind, get_byte(uuid_send(new.id), 15) % 8, 1, coalesce(new.segments, 1))
        on conflict (tenant_id, month, channel, kind, shard)
        do update set messages = u.messages + 1, segments = u.segments + excluded.segments;
    else
        insert into usage_counters as u (tenant_id, month, channel, kind, shard, calls, call_seconds, minutes)
        values (new.tenant_id, date_trunc('month', coalesce(new.delivered_at, new.updated_at) at time zone 'UTC')::date,
                new.channel, new.kind, get_byte(uuid_send(new.id), 15) % 8, 1, coalesce(new.call_seconds, 0),
                ceil(coalesce(new.call_seconds, 0) / 60.0))
        on conflict (tenant_id, month, channel, kind, shard)
        do update set calls = u.calls + 1, call_seconds = u.call_seconds + excluded.call_seconds,
                      minutes = u.minutes + excluded.minutes;
    end if;
    return null;
end
$$;

-- The WHEN clauses are evaluated without entering PL/pgSQL: a write that counts nothing (a
-- creation, a claim, a cancellation) costs a comparison. Row triggers suit the way messages
-- become sent, one per transaction; a single statement writing many thousands of sent messages
-- (none in the product) would update each counter row many times in one transaction, each update
-- slower than the last.
create trigger messages_usage_update after update of status on messages for each row
    when (new.direction = 'out' and (
        (new.channel = 'sms' and new.status in ('sent', 'delivered') and old.status not in ('sent', 'delivered'))
        or (new.channel = 'voice' and new.status = 'delivered' and old.status <> 'delivered')))
    execute function usage_track();
create trigger messages_usage_insert after insert on messages for each row
    when (new.direction = 'out' and (
        (new.channel = 'sms' and new.status in ('sent', 'delivered'))
        or (new.channel = 'voice' and new.status = 'delivered')))
    execute function usage_track();

-- What was sent before this migration.
insert into usage_counters (tenant_id, month, channel, kind, shard, messages, segments, calls, call_seconds, minutes)
select tenant_id, date_trunc('month', coalesce(case when channel = 'sms' then sent_at else delivered_at end, updated_at) at time zone 'UTC')::date,
       channel, kind, 0,
       count(*) filter (where channel = 'sms'), coalesce(sum(coalesce(segments, 1)) filter (where channel = 'sms'), 0),
       count(*) filter (where channel = 'voice'), 0, 0
from messages
where direction = 'out' and ((channel = 'sms' and status in ('sent', 'delivered')) or (channel = 'voice' and status = 'delivered'))
group by 1, 2, 3, 4;

-- A budget's alerts, each once a month: 'threshold' (80 %) and 'exhausted' (100 %), per measure
-- ('segments', 'minutes'). The primary key is what makes "once" hold with many Workers.
create table budget_alerts (
    tenant_id   bigint not null references tenants (id),
    month       date not null,
    measure     text not null,
    level       text not null,
    created_at  timestamptz not null,
    primary key (tenant_id, month, measure, level)
);

-- The Twilio account as the Worker last saw it (one row): its balance, and a pause of all
-- sending after Twilio refused a send for the account itself (20003, funds), shared by every
-- Worker.
create table twilio_account (
    id              boolean primary key default true check (id),
    balance         numeric,
    currency        text,
    checked_at      timestamptz,
    paused_until    timestamptz,
    paused_at       timestamptz,
    pause_reason    text
);
insert into twilio_account default values;
