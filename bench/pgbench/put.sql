-- pgbench: what a PUT that creates commits, one per transaction, in the real tables (their triggers,
-- indexes and foreign keys): the appointment, its plan of three messages (a confirmation and two
-- reminders, the default plan) and the opt-out look-up, in the shape of the creation batch's
-- statement (AppointmentStore.Creation.cs) for a batch of one.
\set n random(1, 1000000000)
with appointment as (
    insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, phone, first_name, last_name,
        phone_is_mobile, channel, service, location_name, location_address, mode, holdout, content_hash, created_at, updated_at,
        status_changed_at)
    values (:tenant, 'pgbench-' || :n, now() + interval '30 days', 30, 'scheduled', '+336' || lpad((:n % 100000000)::text, 8, '0'),
        'Awa', 'Diallo', true, 'sms', 'RSA', 'UTS Toulon Ouest', '12 rue Picot, 83000 Toulon', 'in_person', false, '\x00', now(), now(), now())
    on conflict (tenant_id, external_id) do nothing
    returning id, tenant_id, external_id, phone),
plan as (
    insert into messages (id, appointment_id, tenant_id, kind, channel, step, only_if_unconfirmed, plan_version, due_at, status,
        created_at, updated_at)
    select gen_random_uuid(), a.id, a.tenant_id, p.kind, 'sms', p.step, false, 1, now() + p.due, 'pending', now(), now()
    from appointment a,
        (values ('confirmation', null::int, interval '0'), ('reminder', 0, interval '27 days'), ('reminder', 1, interval '29 days'))
        as p(kind, step, due))
select a.id, exists (select 1 from opt_outs o where o.tenant_id = a.tenant_id and o.phone = a.phone) as opted_out
from appointment a;
