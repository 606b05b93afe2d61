-- Traces (issue 28): the W3C traceparent of the span that wrote a row (an agenda's request, a send),
-- when that span was recorded. The later work on the row (a message's send, an event's delivery, a
-- write-back) starts a span of its own linked to it, so that a reminder can be followed from its PUT
-- to Twilio days later (docs/OPERATIONS.md, "Traces"). Null when nothing traced the writer. Adding a
-- nullable column without a default rewrites nothing.
alter table messages add column traceparent text;
alter table events add column traceparent text;
alter table rdvs_writebacks add column traceparent text;
