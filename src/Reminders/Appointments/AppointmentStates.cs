using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Appointments;

/// <summary>An appointment a citizen answers about, locked: what a reply changes and what its answer is written from.</summary>
internal sealed record ReplyingAppointment(
    long Id, long TenantId, string ExternalId, DateTime StartsAtUtc, string Status, string? Outcome, int PlanVersion,
    string? Service, string? LocationName, string? LocationAddress, string? LocationPhone, string Mode, string Settings, string Language,
    string? Variant)
{
    public DateTimeOffset StartsAt => StartsAtUtc.AsUtc();

    /// <summary>What the answer to the citizen is written from: in their language (acknowledgments and help).</summary>
    public MessageContext Context() =>
        MessageContext.Of(TenantSettings.FromJson(Settings), Service, StartsAt, Mode, LocationName, LocationAddress, LocationPhone, Language, Variant);
}

/// <summary>
/// The changes of an appointment that do not come from its agenda (those are <see cref="AppointmentStore"/>'s):
/// a citizen's answer, a number found to be a landline. Callers hold the transaction and the appointment's lock.
/// </summary>
internal static class AppointmentStates
{
    /// <summary>Locks the appointment (then nothing changes it until the caller commits) and reads what a reply needs.</summary>
    public static Task<ReplyingAppointment?> LockForReplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id) =>
        connection.QuerySingleOrDefaultAsync<ReplyingAppointment>(
            """
            select a.id, a.tenant_id, a.external_id, a.starts_at as starts_at_utc, a.status, a.outcome, a.plan_version, a.service,
                   a.location_name, a.location_address, a.location_phone, a.mode, t.settings::text as settings, a.language, a.variant
            from appointments a join tenants t on t.id = a.tenant_id
            where a.id = @id
            for update of a
            """,
            new { id }, transaction);

    /// <summary>The citizen confirmed, cancelled or asked to reschedule.</summary>
    public static Task SetStatusByCitizenAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id, string status, DateTimeOffset now)
    {
        if (status is not (AppointmentStatus.Confirmed or AppointmentStatus.CancelledByCitizen or AppointmentStatus.RescheduleRequested))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "a citizen confirms, cancels or asks to reschedule");
        }

        return connection.ExecuteAsync(
            """
            update appointments set status = @status, status_changed_at = @now, updated_at = @now,
                confirmed_at = case when @status = 'confirmed' then @now else confirmed_at end
            where id = @id
            """,
            new { id, status, now }, transaction);
    }

    /// <summary>The number is a landline (or not a mobile): every appointment of it is reached by calls from now on.</summary>
    public static Task SwitchToCallsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string phone) =>
        connection.ExecuteAsync(
            "update appointments set channel = 'voice', phone_is_mobile = false where phone = @phone and channel = 'sms'",
            new { phone }, transaction);
}
