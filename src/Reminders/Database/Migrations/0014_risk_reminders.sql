-- An extra reminder for citizens who missed before (CONTRACT §11, docs/statistics.md "Risk").
--
-- appointments.risk: what the appointment was drawn at its creation, once: 'targeted' (the tenant's
-- riskReminders.add on top of its plan), 'held_out' (at risk, only the plan: the comparison group)
-- or 'none' (not at risk, or created without a rule). A statistics dimension (by=risk), so the ledger
-- of 0004_stats.sql carries it and its trigger functions are redefined with it, as 0009 did.
--
-- appointments.citizen_key: the no-show history that outlives the phone (docs/PRIVACY.md). While an
-- appointment keeps its phone, its no-show counts by the phone; when retention erases the phone of a
-- no-show that the tenant's rule still looks back to, the Worker keeps instead an HMAC-SHA256 of the
-- number under the tenant's secret (tenants.history_key), and forgets it once the rule no longer
-- looks that far back, when the rule is removed, or on the citizen's erasure request.

alter table tenants add column history_key bytea;
-- gen_random_uuid() draws from the server's strong random source; two of them, hashed, give 256 bits.
update tenants set history_key = sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));
alter table tenants alter column history_key set default sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));
alter table tenants alter column history_key set not null;

alter table appointments add column risk text not null default 'none';
alter table appointments add column citizen_key bytea;
-- The creation's look-up of past no-shows (AppointmentStore.Risk.cs), by phone and by key, and
-- retention's forgetting of old keys. Both partial: no-shows are a few percent of appointments and only
-- erased no-shows carry a key, so both stay small, and the look-up finds them whatever the statistics
-- of the table say (a seq scan per creation, chosen on a table not analyzed yet, cost intake 8 times).
create index appointments_no_shows on appointments (tenant_id, phone, starts_at) where outcome = 'no_show';
create index appointments_citizen_key on appointments (tenant_id, citizen_key, starts_at) where citizen_key is not null;

alter table appointment_stat_changes add column risk text not null default 'none';

create or replace function appointment_stats_track() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, risk, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               s.language, coalesce(s.variant, ''), s.risk,
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select n.*, 1 as sign from new_rows n) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    elsif tg_op = 'DELETE' then
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, risk, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               s.language, coalesce(s.variant, ''), s.risk,
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select o.*, -1 as sign from old_rows o) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    else
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, risk, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               s.language, coalesce(s.variant, ''), s.risk,
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select o.*, -1 as sign from old_rows o join new_rows n using (id)
                where (o.tenant_id, o.starts_at, appointment_stat_class(o.status, o.outcome), o.outcome, o.service, o.location_name, o.channel, o.confirmed_at is null, o.holdout, o.language, o.variant, o.risk)
                      is distinct from (n.tenant_id, n.starts_at, appointment_stat_class(n.status, n.outcome), n.outcome, n.service, n.location_name, n.channel, n.confirmed_at is null, n.holdout, n.language, n.variant, n.risk)
                union all
                select n.*, 1 as sign from old_rows o join new_rows n using (id)
                where (o.tenant_id, o.starts_at, appointment_stat_class(o.status, o.outcome), o.outcome, o.service, o.location_name, o.channel, o.confirmed_at is null, o.holdout, o.language, o.variant, o.risk)
                      is distinct from (n.tenant_id, n.starts_at, appointment_stat_class(n.status, n.outcome), n.outcome, n.service, n.location_name, n.channel, n.confirmed_at is null, n.holdout, n.language, n.variant, n.risk)) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    end if;
    return null;
end
$$;

create or replace function appointment_stats_rebuild() returns trigger
language plpgsql as $$
begin
    perform pg_advisory_xact_lock(5927486210834421504);
    with forgotten_stats as (delete from appointment_stats where tenant_id = new.id),
         forgotten_changes as (delete from appointment_stat_changes where tenant_id = new.id)
    insert into appointment_stat_changes
        (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, risk, appointments, honoured, no_show, excused, cancelled)
    select a.tenant_id, (a.starts_at at time zone coalesce(new.settings ->> 'timeZone', 'Europe/Paris'))::date,
           coalesce(a.service, ''), coalesce(a.location_name, ''), a.channel, a.confirmed_at is not null, a.holdout,
           a.language, coalesce(a.variant, ''), a.risk,
           count(*),
           count(*) filter (where a.outcome = 'honoured'),
           count(*) filter (where a.outcome = 'no_show'),
           count(*) filter (where a.outcome = 'excused'),
           count(*) filter (where appointment_stat_class(a.status, a.outcome) = 'cancelled')
    from appointments a
    where a.tenant_id = new.id
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9, 10;
    return null;
end
$$;

-- The new dimension of the counts already folded: every appointment so far is 'none', so its rows
-- are the 'day' rows under another name (the ledger not folded yet has risk 'none' by default).
-- Under the compactor's lock, in this migration's transaction.
select pg_advisory_xact_lock(5927486210834421504);
insert into appointment_stats (tenant_id, dimension, day, key, appointments, honoured, no_show, excused, cancelled)
select tenant_id, 'risk', day, 'none', appointments, honoured, no_show, excused, cancelled
from appointment_stats where dimension = 'day';
