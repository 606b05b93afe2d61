-- The creation batch writes its own statistics ledger rows (issue 28: intake).
--
-- Every statement that inserts appointments ran appointments_stats_insert (0004): a PL/pgSQL call on
-- a copy of the inserted rows, and a second plan run through SPI, to add one ledger row per distinct
-- combination. In the intake's profile that trigger was about a seventh of PostgreSQL's time, in the
-- one statement that sets the pace of intake (docs/BENCHMARKS.md, "Intake"). The creation batch now
-- writes the same rows in its own statement (AppointmentStore.Creation.cs, StatsLedgerCte) and says so,
-- in the same transaction, with `set_config('rappel.stats_written', 'on', true)`: the trigger's WHEN
-- condition then leaves that statement alone, without entering PL/pgSQL. Any other insert (a demo
-- history, a bulk load in SQL, a future path) does not set the flag and is counted by the trigger as
-- before.
drop trigger appointments_stats_insert on appointments;
create trigger appointments_stats_insert after insert on appointments
    referencing new table as new_rows for each statement
    when (current_setting('rappel.stats_written', true) is distinct from 'on')
    execute function appointment_stats_track();

-- The ledger keeps its check against tenants (a query a ledger row): without it, a tenant deleted by
-- hand could leave ledger rows behind that the compactor could never fold into appointment_stats
-- (whose rows check their tenant), and compaction would stop for every tenant.
