-- Writing the citizen's answer back to RDV-Solidarités (CONTRACT §10, src/Reminders/RdvSolidarites/).
-- Each participation's id, from the webhooks: what PATCH /api/v1/participations/{id} needs. Appointments
-- created before this get it from the next webhook of their RDV.
alter table appointments add column rdvs_participation_id bigint;

-- The outbox of write-backs: one row per appointment (a cancellation after a request to reschedule
-- writes nothing more, `excused` is already on its way), written in the transaction of the status
-- change, delivered by the Worker's own loop (src/Worker/RdvSolidarites/).
create table rdvs_writebacks (
    appointment_id   bigint primary key references appointments (id),
    tenant_id        bigint not null references tenants (id),
    participation_id bigint,
    status           text not null check (status in ('pending', 'done', 'failed')),
    reason           text,
    attempts         integer not null default 0,
    created_at       timestamptz not null,
    updated_at       timestamptz not null,
    next_attempt_at  timestamptz not null
);
create index rdvs_writebacks_due on rdvs_writebacks (next_attempt_at) where status = 'pending';
create index rdvs_writebacks_failed on rdvs_writebacks (tenant_id, updated_at) where status = 'failed';
