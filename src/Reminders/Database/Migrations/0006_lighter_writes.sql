-- Each creation wrote one appointment and its messages, and each message checked its tenant_id
-- against tenants with a FOR KEY SHARE lock on the same row: with concurrent agendas of one
-- tenant, every write shared that lock (a multixact) and paid the check (bench/intake.sh,
-- docs/BENCHMARKS.md). A message's tenant is its appointment's, which is checked there, and
-- tenants are never deleted.
alter table messages drop constraint messages_tenant_id_fkey;
