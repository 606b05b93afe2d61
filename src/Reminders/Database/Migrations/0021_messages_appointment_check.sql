-- A creation wrote its appointment and, in the same statement, its plan: three messages (the default
-- plan) each checked against appointments by the foreign key, a query and a row lock on the
-- appointment the statement had just inserted. That was three of the creation's four checks, in the
-- statement PostgreSQL spends most of an intake's time on (bench/intake.sh, docs/BENCHMARKS.md,
-- "Intake"). Nothing needs it: every message is written with the id of an appointment that the same
-- statement inserted or that the writing transaction holds locked, and appointments are never deleted
-- (retention and erasure blank their personal data and keep the row). The appointment's own check
-- against tenants stays (one a creation), as does the statistics ledger's.
alter table messages drop constraint messages_appointment_id_fkey;
