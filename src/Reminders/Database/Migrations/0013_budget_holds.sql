-- Budgets hold at the send (issue 29, contract §9.1): a send of a tenant with a budget reserves
-- what it will cost (its SMS segments, or one call minute) before it leaves, committed at once on a
-- connection of its own under a per-tenant advisory lock, so that the next send of that tenant sees
-- it. usage_counters counts a message only once it is sent (a trigger, in the send's transaction,
-- after Twilio answered): before this table, a burst of sends all read the same count and all left.
--
-- A hold is live while its message is still being sent by that claim (status 'sending', same
-- claim_token: at Twilio or about to be, outcome possibly unknown), and for a call while it is
-- 'sent' (placed, its minutes known only when it ends). Once the send's outcome is committed the
-- hold stops counting in the same commit as usage_counters starts counting it: a reader sees one or
-- the other, never neither. Dead holds are removed by the next reservation of the tenant; nothing
-- depends on their removal. No foreign key: its check would wait on the message row the send holds.
create table budget_holds (
    message_id   uuid primary key,
    claim_token  uuid not null,
    tenant_id    bigint not null,
    month        date not null,
    channel      text not null,
    units        integer not null,
    created_at   timestamptz not null
);
create index budget_holds_tenant on budget_holds (tenant_id, month);
