-- Who holds a claim (issue 28, CONTRACT §9.1: "nothing a stopped process held waits for a lease").
-- Each Worker takes a number from worker_numbers when it starts and holds a session advisory lock on
-- it for its whole life (src/Worker/Hosting/WorkerPresence.cs); every claim it makes carries that
-- number. A claim whose number's lock nobody holds any more was made by a process that is gone
-- (killed, its node lost, its connection dropped), and recovery takes it at once instead of waiting
-- for the lease (docs/ARCHITECTURE.md, "A claimer that is gone"). Null: a claim made without a held
-- number (a Worker of the previous version, one whose lock is being taken again), which the lease
-- alone brings back, as before. Nullable columns without a default: nothing is rewritten.
create sequence worker_numbers as integer minvalue 1 cycle;
alter table messages add column claimed_by integer;
alter table events add column claimed_by integer;
alter table rdvs_writebacks add column claimed_by integer;
-- Events and write-backs keep claimed_by only while an attempt is in flight (every outcome clears it),
-- so these stay as small as the attempts in flight, whatever the backlog of retries waiting.
create index events_claimed on events (claimed_by) where claimed_by is not null;
create index rdvs_writebacks_claimed on rdvs_writebacks (claimed_by) where claimed_by is not null;
