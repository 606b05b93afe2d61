-- Every Twilio resource we caused for an appointment that no messages row holds as its provider_id:
-- the earlier calls of a call tried again (each try is a new CallSid), a call whose status callback
-- settled it before the Worker stored its SID, the SMS Twilio sends from a TwiML reply to a citizen.
-- They go to twilio_deletions when the appointment is erased, with the messages' own SIDs
-- (src/Reminders/Twilio/TwilioSids.cs). What belongs to no appointment (an SMS from a number no
-- appointment has, the reply to it) goes to twilio_deletions at once instead: nothing to keep it for.
-- Appointments are never deleted, only erased: the reference holds.
create table twilio_sids (
    sid            text primary key,
    appointment_id bigint not null references appointments (id),
    created_at     timestamptz not null
);
create index twilio_sids_appointment on twilio_sids (appointment_id);
