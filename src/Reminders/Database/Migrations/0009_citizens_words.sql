-- Citizens' words (CONTRACT §9.4): the language each citizen is written to and called in, and the
-- wording variant each appointment was drawn into when its tenant runs a trial (texts.experiment).
-- Both are statistics dimensions (GET /v1/stats/no-show?by=language, by=variant), so the ledger of
-- 0004_stats.sql carries them and its trigger functions are redefined with them; nothing else of
-- the counting changes.

alter table appointments add column language text not null default 'fr';
-- null: drawn into no variant (no trial running when the appointment was created)
alter table appointments add column variant text;

alter table appointment_stat_changes add column language text not null default 'fr';
alter table appointment_stat_changes add column variant text not null default '';

create or replace function appointment_stats_track() returns trigger
language plpgsql as $$
begin
    if tg_op = 'INSERT' then
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               s.language, coalesce(s.variant, ''),
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select n.*, 1 as sign from new_rows n) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7, 8, 9
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    elsif tg_op = 'DELETE' then
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               s.language, coalesce(s.variant, ''),
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select o.*, -1 as sign from old_rows o) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7, 8, 9
        having sum(s.sign) <> 0
            or sum(case when s.outcome = 'honoured' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'no_show' then s.sign else 0 end) <> 0
            or sum(case when s.outcome = 'excused' then s.sign else 0 end) <> 0
            or sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end) <> 0;
    else
        insert into appointment_stat_changes
            (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, appointments, honoured, no_show, excused, cancelled)
        select s.tenant_id, (s.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
               coalesce(s.service, ''), coalesce(s.location_name, ''), s.channel, s.confirmed_at is not null, s.holdout,
               s.language, coalesce(s.variant, ''),
               sum(s.sign),
               sum(case when s.outcome = 'honoured' then s.sign else 0 end),
               sum(case when s.outcome = 'no_show' then s.sign else 0 end),
               sum(case when s.outcome = 'excused' then s.sign else 0 end),
               sum(case when appointment_stat_class(s.status, s.outcome) = 'cancelled' then s.sign else 0 end)
        from (select o.*, -1 as sign from old_rows o join new_rows n using (id)
                where (o.tenant_id, o.starts_at, appointment_stat_class(o.status, o.outcome), o.outcome, o.service, o.location_name, o.channel, o.confirmed_at is null, o.holdout, o.language, o.variant)
                      is distinct from (n.tenant_id, n.starts_at, appointment_stat_class(n.status, n.outcome), n.outcome, n.service, n.location_name, n.channel, n.confirmed_at is null, n.holdout, n.language, n.variant)
                union all
                select n.*, 1 as sign from old_rows o join new_rows n using (id)
                where (o.tenant_id, o.starts_at, appointment_stat_class(o.status, o.outcome), o.outcome, o.service, o.location_name, o.channel, o.confirmed_at is null, o.holdout, o.language, o.variant)
                      is distinct from (n.tenant_id, n.starts_at, appointment_stat_class(n.status, n.outcome), n.outcome, n.service, n.location_name, n.channel, n.confirmed_at is null, n.holdout, n.language, n.variant)) s
             join tenants t on t.id = s.tenant_id
        group by 1, 2, 3, 4, 5, 6, 7, 8, 9
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
        (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, appointments, honoured, no_show, excused, cancelled)
    select a.tenant_id, (a.starts_at at time zone coalesce(new.settings ->> 'timeZone', 'Europe/Paris'))::date,
           coalesce(a.service, ''), coalesce(a.location_name, ''), a.channel, a.confirmed_at is not null, a.holdout,
           a.language, coalesce(a.variant, ''),
           count(*),
           count(*) filter (where a.outcome = 'honoured'),
           count(*) filter (where a.outcome = 'no_show'),
           count(*) filter (where a.outcome = 'excused'),
           count(*) filter (where appointment_stat_class(a.status, a.outcome) = 'cancelled')
    from appointments a
    where a.tenant_id = new.id
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9;
    return null;
end
$$;

-- The new dimensions of the counts already folded: everything is counted again from the
-- appointments, under the compactor's lock, in this migration's transaction (the ledger is exact
-- by construction, so this changes no figure of the existing dimensions).
select pg_advisory_xact_lock(5927486210834421504);
delete from appointment_stats;
delete from appointment_stat_changes;
insert into appointment_stat_changes
    (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, appointments, honoured, no_show, excused, cancelled)
select a.tenant_id, (a.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
           coalesce(a.service, ''), coalesce(a.location_name, ''), a.channel, a.confirmed_at is not null, a.holdout,
           a.language, coalesce(a.variant, ''),
           count(*),
           count(*) filter (where a.outcome = 'honoured'),
           count(*) filter (where a.outcome = 'no_show'),
           count(*) filter (where a.outcome = 'excused'),
           count(*) filter (where appointment_stat_class(a.status, a.outcome) = 'cancelled')
from appointments a join tenants t on t.id = a.tenant_id
group by 1, 2, 3, 4, 5, 6, 7, 8, 9;
