-- Usage counters: 64 shards per (tenant, month, channel, kind) instead of 8.
--
-- A counter row's lock is held from the send's update until its commit. One Worker sends up to
-- 64 messages of one tenant at once (4 slices × 16): on 8 shards, sampled during the uncapped
-- dispatch benchmark, 20 to 35 sends at any moment were waiting on another send's counter row; on
-- 64, about one (docs/BENCHMARKS.md, "Dispatch"). The rows already written stay where they are
-- (shards 0 to 7 are shards of the new range); readers sum whatever shards exist.
create or replace function usage_track() returns trigger
language plpgsql as $$
begin
    if new.channel = 'sms' then
        insert into usage_counters as u (tenant_id, month, channel, kind, shard, messages, segments)
        values (new.tenant_id, date_trunc('month', coalesce(new.sent_at, new.updated_at) at time zone 'UTC')::date,
                'sms', new.kind, get_byte(uuid_send(new.id), 15) % 64, 1, coalesce(new.segments, 1))
        on conflict (tenant_id, month, channel, kind, shard)
        do update set messages = u.messages + 1, segments = u.segments + excluded.segments;
    else
        insert into usage_counters as u (tenant_id, month, channel, kind, shard, calls, call_seconds, minutes)
        values (new.tenant_id, date_trunc('month', coalesce(new.delivered_at, new.updated_at) at time zone 'UTC')::date,
                new.channel, new.kind, get_byte(uuid_send(new.id), 15) % 64, 1, coalesce(new.call_seconds, 0),
                ceil(coalesce(new.call_seconds, 0) / 60.0))
        on conflict (tenant_id, month, channel, kind, shard)
        do update set calls = u.calls + 1, call_seconds = u.call_seconds + excluded.call_seconds,
                      minutes = u.minutes + excluded.minutes;
    end if;
    return null;
end
$$;
