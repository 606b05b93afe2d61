-- Every Api caches the tenants it authenticates. A change of settings or keys, made by any process
-- or by hand, tells them all to forget that tenant (delivered when the change commits); a
-- truncate, to forget them all (an empty payload).
create function notify_tenant_changed() returns trigger language plpgsql as $$
begin
    perform pg_notify('tenant_changed', case when tg_level = 'ROW' then old.slug else '' end);
    return null;
end $$;

create trigger tenants_changed after update or delete on tenants
    for each row execute function notify_tenant_changed();

create trigger tenants_truncated after truncate on tenants
    for each statement execute function notify_tenant_changed();
