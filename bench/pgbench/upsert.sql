-- pgbench: one appointment upserted, alone in its transaction, into pgbench_appointments, a table
-- shaped like appointments (create table … (like appointments including all): its columns,
-- defaults, checks and indexes, but no trigger and no foreign key). The reference intake is set
-- against (issue 28): what PostgreSQL does for the simplest upsert of such a row. Keys are drawn
-- from a billion, so nearly every upsert inserts, as a creation does.
\set n random(1, 1000000000)
insert into pgbench_appointments (tenant_id, external_id, starts_at, duration_minutes, status, phone, first_name, last_name,
    phone_is_mobile, channel, service, location_name, location_address, mode, holdout, content_hash, created_at, updated_at,
    status_changed_at)
values (:tenant, 'pgbench-' || :n, now() + interval '30 days', 30, 'scheduled', '+336' || lpad((:n % 100000000)::text, 8, '0'),
    'Awa', 'Diallo', true, 'sms', 'RSA', 'UTS Toulon Ouest', '12 rue Picot, 83000 Toulon', 'in_person', false, '\x00', now(), now(), now())
on conflict (tenant_id, external_id) do update set starts_at = excluded.starts_at, updated_at = excluded.updated_at;
