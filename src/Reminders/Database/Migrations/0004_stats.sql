-- Statistics of the managers (GET /v1/stats/no-show, /dashboard, /metrics), maintained as
-- appointments change, so that a year of a tenant with a million appointments reads a few
-- hundred rows instead of scanning a million (see docs/BENCHMARKS.md, "Stats").
--
-- Two tables:
--   appointment_stat_changes  an append-only ledger written by triggers on appointments: one
--                             row per distinct combination a statement added or removed, with
--                             signed counts. Writers only ever insert, so concurrent writers
--                             never wait on each other nor deadlock on shared counters.
--   appointment_stats         the ledger folded per tenant, local day and dimension, by the
--                             Worker's StatsCompactor every few seconds.
-- A reader sums both in one statement (one snapshot), so it is exact whether or not the
-- compactor has run.
--
-- Days are local to the tenant's time zone (the contract counts appointments by startsAt in
-- that zone); when a tenant's timeZone changes, its rows are rebuilt from appointments.

create table appointment_stats (
    tenant_id     bigint not null references tenants (id),
    -- 'day' (key ''), 'service', 'location', 'channel', 'confirmation' (confirmed / unconfirmed), 'cohort' (reminded / holdout)
    dimension     text not null,
    day           date not null,
    -- '' when the appointment has no service or location
    key           text not null,
    appointments  integer not null,
    honoured      integer not null,
    no_show       integer not null,
    excused       integer not null,
    -- cancelled without an outcome; 'unknown' is what remains: appointments - the four others
    cancelled     integer not null,
    primary key (tenant_id, dimension, day, key)
);

create table appointment_stat_changes (
    id             bigint generated always as identity primary key,
    tenant_id      bigint not null references tenants (id),
    day            date not null,
    service        text not null,
    location_name  text not null,
    channel        text not null,
    confirmed      boolean not null,
    holdout        boolean not null,
    appointments   integer not null,
    honoured       integer not null,
    no_show        integer not null,
    excused        integer not null,
    cancelled      integer not null
);
create index appointment_stat_changes_tenant_day on appointment_stat_changes (tenant_id, day);

-- What statistics count an appointment as, among the contract's counts.
create function appointment_stat_class(status text, outcome text) returns text
language sql immutable parallel safe as $$
    select case
        when outcome is not null then outcome
        when status in ('cancelled_by_citizen', 'cancelled_by_service') then 'cancelled'
        else 'unknown'
    end
$$;

-- One function for the three statement-level triggers below; each trigger names its transition
-- tables and PL/pgSQL plans a branch only when it runs (as in PostgreSQL's own audit example).
-- Statement-level: a bulk insert of 10,000 appointments writes one ledger row per distinct
-- combination, not 10,000. An update that changes nothing counted (the usual case: a reminder
-- planned or sent, personal data erased, a reschedule within the same day) writes nothing.
create function appointment_stats_track() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select n.*, 1 as sign from new_rows n) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7
        -- a reschedule within the same day, say, adds and removes the same thing: nothing to write
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    elsif tg_op = 'DELETE' then
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select o.*, -1 as sign from old_rows o) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7
        -- a reschedule within the same day, say, adds and removes the same thing: nothing to write
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    else
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select o.*, -1 as sign from old_rows o join new_rows n using (id) where (o.tenant_id, o.starts_at, appointment_stat_class(o.status, o.outcome), o.outcome, o.service, o.location_name,
                       o.channel, o.confirmed_at is null, o.holdout)
                      is distinct from (n.tenant_id, n.starts_at, appointment_stat_class(n.status, n.outcome), n.outcome, n.service,
                       n.location_name, n.channel, n.confirmed_at is null, n.holdout)
                union all
                select n.*, 1 as sign from old_rows o join new_rows n using (id) where (o.tenant_id, o.starts_at, appointment_stat_class(o.status, o.outcome), o.outcome, o.service, o.location_name,
                       o.channel, o.confirmed_at is null, o.holdout)
                      is distinct from (n.tenant_id, n.starts_at, appointment_stat_class(n.status, n.outcome), n.outcome, n.service,
                       n.location_name, n.channel, n.confirmed_at is null, n.holdout)) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7
        -- a reschedule within the same day, say, adds and removes the same thing: nothing to write
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    end if;
    return null;
end
$$;

create trigger appointments_stats_insert after insert on appointments
    referencing new table as new_rows for each statement execute function appointment_stats_track();
create trigger appointments_stats_update after update on appointments
    referencing old table as old_rows new table as new_rows for each statement execute function appointment_stats_track();
create trigger appointments_stats_delete after delete on appointments
    referencing old table as old_rows for each statement execute function appointment_stats_track();

-- A new time zone moves appointments between local days: the tenant's rows are rebuilt from
-- its appointments, in the transaction that changes the setting. The advisory lock is the
-- compactor's (StatsCompactor.LockKey): it must not fold the ledger while we replace it. All in
-- one statement, hence one snapshot: a change committed meanwhile is either in the appointments
-- read here or in a ledger row left in place, never both.
create function appointment_stats_rebuild() returns trigger
language plpgsql as $$
begin
    perform pg_advisory_xact_lock(5927486210834421504);
    with forgotten_stats as (delete from appointment_stats where tenant_id = new.id),
         forgotten_changes as (delete from appointment_stat_changes where tenant_id = new.id)
    insert into appointment_stat_changes
        (tenant_id, day, service, location_name, channel, confirmed, holdout, appointments, honoured, no_show, excused, cancelled)
    select a.tenant_id, (a.starts_at at time zone coalesce(new.settings ->> 'timeZone', 'Europe/Paris'))::date,
           coalesce(a.service, ''), coalesce(a.location_name, ''), a.channel, a.confirmed_at is not null, a.holdout,
           count(*),
           count(*) filter (where a.outcome = 'honoured'),
           count(*) filter (where a.outcome = 'no_show'),
           count(*) filter (where a.outcome = 'excused'),
           count(*) filter (where appointment_stat_class(a.status, a.outcome) = 'cancelled')
    from appointments a
    where a.tenant_id = new.id
    group by 1, 2, 3, 4, 5, 6, 7;
    return null;
end
$$;

create trigger tenants_stats_time_zone after update of settings on tenants
    for each row when (old.settings ->> 'timeZone' is distinct from new.settings ->> 'timeZone')
    execute function appointment_stats_rebuild();

-- The appointments already there.
insert into appointment_stat_changes
    (tenant_id, day, service, location_name, channel, confirmed, holdout, appointments, honoured, no_show, excused, cancelled)
select a.tenant_id, (a.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
       coalesce(a.service, ''), coalesce(a.location_name, ''), a.channel, a.confirmed_at is not null, a.holdout,
       count(*),
       count(*) filter (where a.outcome = 'honoured'),
       count(*) filter (where a.outcome = 'no_show'),
       count(*) filter (where a.outcome = 'excused'),
       count(*) filter (where appointment_stat_class(a.status, a.outcome) = 'cancelled')
from appointments a join tenants t on t.id = a.tenant_id
group by 1, 2, 3, 4, 5, 6, 7;

-- The dashboard's recent delivery failures of one tenant; failures are few, so is this index.
create index messages_failed on messages (tenant_id, updated_at) where status = 'failed';
-- Metrics read the recent messages (due in the last 30 days, or later) by state.
create index messages_due_at on messages (due_at) include (tenant_id, kind, channel, status, direction);
