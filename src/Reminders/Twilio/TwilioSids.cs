using Dapper;
using Npgsql;

namespace RappelRdv.Reminders.Twilio;

/// <summary>
/// The one module that writes <c>twilio_sids</c> (migration 0015): every message or call we caused at
/// Twilio that no <c>messages</c> row holds, so that erasure deletes it there too (docs/PRIVACY.md).
/// The messages' own SIDs are handed over by the erasure itself (AppointmentStore.Erasure, PersonalDataRetention).
/// </summary>
public static class TwilioSids
{
    /// <summary>
    /// How long a SID that belongs to no appointment is left at Twilio: long enough for the message to
    /// reach a final state (Twilio refuses to delete one still queued; a refusal is tried again anyway).
    /// </summary>
    public static readonly TimeSpan UnattachedDelay = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Records a SID we caused for this appointment; without an appointment, or when it is erased already,
    /// the SID goes to <c>twilio_deletions</c> instead. Run twice, the same. The caller holds the
    /// appointment's row lock (erasure takes it too), so an erasure cannot slip between the check and the insert.
    /// </summary>
    public static async Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string? sid, long? appointmentId, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(sid) || sid.Length > 64)
        {
            return;
        }

        await connection.ExecuteAsync(
            """
            insert into twilio_sids (sid, appointment_id, created_at)
            select @sid, a.id, @now from appointments a where a.id = @appointmentId and a.erased_at is null
            on conflict (sid) do nothing;
            insert into twilio_deletions (sid, created_at, next_attempt_at)
            select @sid, @now, @later
            where not exists (select 1 from appointments a where a.id = @appointmentId and a.erased_at is null)
            on conflict (sid) do nothing;
            """,
            new { sid, appointmentId, now, later = now + UnattachedDelay }, transaction);
    }

    /// <summary>
    /// An inbound SMS that no reply row took (a number without an appointment, a sender that is no French
    /// number, a repeated STOP): nothing of ours refers to it, so it goes to <c>twilio_deletions</c>.
    /// </summary>
    public static async Task ForgetUnlessKeptAsync(NpgsqlDataSource db, string sid, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(sid) || sid.Length > 64)
        {
            return;
        }

        await using var connection = await db.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into twilio_deletions (sid, created_at, next_attempt_at)
            select @sid, @now, @later
            where not exists (select 1 from messages where provider_id = @sid)
            on conflict (sid) do nothing
            """,
            new { sid, now, later = now + UnattachedDelay });
    }
}
