using Dapper;
using Npgsql;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Appointments;

/// <summary>Erasing an appointment's personal data while its statistics stay.</summary>
public sealed partial class AppointmentStore
{
    /// <summary>
    /// Erases the personal data of one appointment, in one transaction: the phone and the names,
    /// the text of its messages (what was sent, what the citizen replied). Starts, status, outcome,
    /// service, location, mode, channel and holdout stay for the statistics. Erasing again changes
    /// nothing. False when there is no such appointment.
    /// </summary>
    public async Task<bool> ErasePersonalDataAsync(long appointmentId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var found = await ErasePersonalDataAsync(connection, transaction, appointmentId, clock.GetUtcNow());
        await transaction.CommitAsync(cancellationToken);
        return found;
    }

    /// <summary>
    /// Erases, on a citizen's request, the personal data of every appointment of one tenant with this
    /// number (E.164), in one transaction; returns how many. Those whose phone retention already
    /// erased but whose no-show history it kept (the citizen's key, AppointmentStore.Risk.cs) count and
    /// lose that key too. The number's STOP (the citizen's objection) stays: erasing it would start the
    /// messages again.
    /// </summary>
    public async Task<int> ErasePersonalDataOfPhoneAsync(long tenantId, string phone, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var citizenKey = TenantSecrets.CitizenKey(await HistoryKeyAsync(connection, transaction, tenantId), phone);
        var ids = (await connection.QueryAsync<long>(new CommandDefinition(
            "select id from appointments where tenant_id = @tenantId and (phone = @phone or citizen_key = @citizenKey) order by id",
            new { tenantId, phone, citizenKey }, transaction, cancellationToken: cancellationToken))).ToList();
        var now = clock.GetUtcNow();
        foreach (var id in ids)
        {
            await ErasePersonalDataAsync(connection, transaction, id, now);
        }

        await transaction.CommitAsync(cancellationToken);
        return ids.Count;
    }

    /// <summary>The same inside a caller's transaction (the retention job erases many appointments in one).</summary>
    internal static async Task<bool> ErasePersonalDataAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, DateTimeOffset now)
    {
        // The appointment's row lock, like every change: a send in progress finishes before, none starts after.
        var found = await connection.QuerySingleOrDefaultAsync<long?>(
            "select id from appointments where id = @appointmentId for update", new { appointmentId }, transaction);
        if (found is null)
        {
            return false;
        }

        // With no number left, nothing pending could be sent anyway: say why rather than let it fail.
        await CancelPendingAsync(connection, transaction, appointmentId, "personal data erased", now);
        // Twilio's error texts quote the number; Twilio itself keeps each message and call until the
        // Worker's TwilioErasure deletes them there.
        await connection.ExecuteAsync(
            """
            update messages set body = null, error = regexp_replace(error, @numbers, @erased, 'g')
            where appointment_id = @appointmentId and (body is not null or error ~ @numbers)
            """,
            new { appointmentId, numbers = Security.ErasedText.PhoneNumbersPattern, erased = Security.ErasedText.Replacement }, transaction);
        await connection.ExecuteAsync(
            """
            insert into twilio_deletions (sid, created_at, next_attempt_at)
            select provider_id, @now, @now from messages where appointment_id = @appointmentId and provider_id is not null
            union all
            select sid, @now, @now from twilio_sids where appointment_id = @appointmentId
            on conflict (sid) do nothing
            """,
            new { appointmentId, now }, transaction);
        // content_hash goes too: a SHA-256 over a French phone number and a name can be reversed by trying them all.
        // So does the no-show history kept in place of the phone: an erasure on request is the citizen's.
        await connection.ExecuteAsync(
            """
            update appointments set phone = null, first_name = null, last_name = null, content_hash = '\x'::bytea, citizen_key = null,
                erased_at = coalesce(erased_at, @now), updated_at = case when erased_at is null then @now else updated_at end
            where id = @appointmentId
            """,
            new { appointmentId, now }, transaction);
        return true;
    }
}
