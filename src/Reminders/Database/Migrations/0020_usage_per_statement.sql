-- Usage counted once per statement, its counter rows locked in one order (issue 28: sends in groups).
--
-- A dispatch group writes the answers of up to 64 sends in one transaction (docs/ARCHITECTURE.md,
-- "Dispatch"). With the row trigger of 0010/0012 each message locked the counter row of its own shard
-- (from its id) as its answer was written: two groups of one tenant took the same shards in different
-- orders and PostgreSQL found deadlocks (seen in AccountRateTests, two Workers on one account).
-- Now the status changes of one UPDATE statement are counted by one INSERT … ON CONFLICT that locks
-- its rows sorted by (channel, tenant, month, kind), one shard per transaction (from its id, so that
-- two transactions of one tenant rarely share a row). Every writer takes counter rows in that order
-- within a statement, and a group writes all its answers in one statement: no two can wait on each
-- other in a circle. What is counted, and when, is unchanged (0010's header).
drop trigger messages_usage_update on messages;

create function usage_track_updates() returns trigger
language plpgsql as $$
declare
    this_shard smallint := (txid_current() % 64)::smallint;
begin
    insert into usage_counters as u (tenant_id, month, channel, kind, shard, messages, segments)
    select n.tenant_id, date_trunc('month', coalesce(n.sent_at, n.updated_at) at time zone 'UTC')::date, 'sms', n.kind, this_shard,
           count(*), sum(coalesce(n.segments, 1))
    from changed_new n join changed_old o on o.id = n.id
    where n.direction = 'out' and n.channel = 'sms' and n.status in ('sent', 'delivered') and o.status not in ('sent', 'delivered')
    group by 1, 2, 4
    order by 1, 2, 4
    on conflict (tenant_id, month, channel, kind, shard)
    do update set messages = u.messages + excluded.messages, segments = u.segments + excluded.segments;

    insert into usage_counters as u (tenant_id, month, channel, kind, shard, calls, call_seconds, minutes)
    select n.tenant_id, date_trunc('month', coalesce(n.delivered_at, n.updated_at) at time zone 'UTC')::date, n.channel, n.kind, this_shard,
           count(*), sum(coalesce(n.call_seconds, 0)), sum(ceil(coalesce(n.call_seconds, 0) / 60.0))
    from changed_new n join changed_old o on o.id = n.id
    where n.direction = 'out' and n.channel = 'voice' and n.status = 'delivered' and o.status <> 'delivered'
    group by 1, 2, 3, 4
    order by 1, 2, 3, 4
    on conflict (tenant_id, month, channel, kind, shard)
    do update set calls = u.calls + excluded.calls, call_seconds = u.call_seconds + excluded.call_seconds,
                  minutes = u.minutes + excluded.minutes;
    return null;
end
$$;

-- Transition tables cannot go with a column list (`update of status`): the function keeps only the
-- rows whose status changed as 0010's condition said.
create trigger messages_usage_update after update on messages
    referencing old table as changed_old new table as changed_new
    for each statement execute function usage_track_updates();
