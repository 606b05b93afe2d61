-- Tenants: one per département or agenda. Keys are stored as SHA-256 hashes only.
create table tenants (
    id                bigint generated always as identity primary key,
    slug              text not null unique,
    name              text not null,
    settings          jsonb not null,
    api_key_hash      bytea not null,
    manager_key_hash  bytea not null,
    -- Needed in clear to sign outbound events (HMAC), like any webhook secret.
    webhook_secret    text not null,
    created_at        timestamptz not null,
    updated_at        timestamptz not null
);

create table appointments (
    id                   bigint generated always as identity primary key,
    tenant_id            bigint not null references tenants (id),
    external_id          text not null,
    starts_at            timestamptz not null,
    duration_minutes     integer not null,
    status               text not null,
    outcome              text,
    -- Personal data: erased retentionDays after the appointment (erased_at set, columns nulled).
    phone                text,
    first_name           text,
    last_name            text,
    phone_is_mobile      boolean not null,
    channel              text not null,
    service              text,
    location_name        text,
    location_address     text,
    location_phone       text,
    mode                 text not null,
    holdout              boolean not null,
    -- Bumped on every reschedule: messages of an older plan are never sent.
    plan_version         integer not null default 1,
    -- SHA-256 of the canonical request: an identical PUT is recognised and changes nothing.
    content_hash         bytea not null,
    source               text not null default 'api',
    source_updated_at    timestamptz,
    confirmed_at         timestamptz,
    status_changed_at    timestamptz,
    outcome_at           timestamptz,
    erased_at            timestamptz,
    created_at           timestamptz not null,
    updated_at           timestamptz not null,
    unique (tenant_id, external_id)
);
create index appointments_tenant_starts on appointments (tenant_id, starts_at);
create index appointments_phone on appointments (phone, starts_at) where phone is not null;
create index appointments_retention on appointments (starts_at) where erased_at is null;

create table messages (
    id               uuid primary key,
    appointment_id   bigint not null references appointments (id),
    tenant_id        bigint not null references tenants (id),
    kind             text not null,
    channel          text not null,
    step             integer,
    only_if_unconfirmed boolean not null default false,
    plan_version     integer not null,
    due_at           timestamptz not null,
    status           text not null,
    attempts         integer not null default 0,
    claim_token      uuid,
    claimed_at       timestamptz,
    sent_at          timestamptz,
    delivered_at     timestamptz,
    provider_id      text,
    segments         integer,
    error            text,
    -- Text of a citizen's reply or of what was sent: personal, erased with the appointment.
    body             text,
    created_at       timestamptz not null,
    updated_at       timestamptz not null
);
create index messages_due on messages (due_at) where status = 'pending';
create index messages_sending on messages (claimed_at) where status = 'sending';
create index messages_appointment on messages (appointment_id);
create unique index messages_provider on messages (provider_id) where provider_id is not null;

-- Per tenant: STOP and START from a number.
create table opt_outs (
    tenant_id   bigint not null references tenants (id),
    phone       text not null,
    created_at  timestamptz not null,
    primary key (tenant_id, phone)
);

-- Numbers that must not get SMS any more (Twilio 21211/21614), or that are landlines (30006).
create table phone_flags (
    phone          text primary key,
    sms_unusable   boolean not null default false,
    help_sent_at   timestamptz,
    updated_at     timestamptz not null
);

-- Outbox of events for the tenants' agendas: delivered by the Worker, at least once.
create table events (
    id               uuid primary key,
    tenant_id        bigint not null references tenants (id),
    type             text not null,
    payload          jsonb not null,
    created_at       timestamptz not null,
    status           text not null default 'pending',
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null,
    delivered_at     timestamptz,
    last_error       text
);
create index events_pending on events (next_attempt_at) where status = 'pending';
