-- The keys that sign the dashboard's and Hangfire's session cookies (ASP.NET Core Data
-- Protection), kept here so that a cookie issued by one Api process is accepted by every other.
-- One row per key, as the key ring writes it; never updated, only added to.
create table data_protection_keys (
    id bigint generated always as identity primary key,
    friendly_name text not null unique,
    xml text not null,
    created_at timestamptz not null default now()
);

-- Who signed in to the dashboard or Hangfire, who viewed personal data (the failures list) and
-- who exported figures: one row each, kept a year (the Worker's retention job deletes older rows).
-- Never a citizen's phone: the actor is a manager's e-mail or the fact of a key login.
create table audit (
    id bigint generated always as identity primary key,
    at timestamptz not null,
    tenant_id bigint references tenants (id),
    action text not null,
    actor text not null,
    remote_address text,
    detail text
);

create index audit_tenant_at on audit (tenant_id, at desc);
create index audit_at on audit (at);
