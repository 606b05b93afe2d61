using RappelRdv.Reminders.Messages;
using Dapper;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Api.Replies;

public enum ReplyEffect
{
    Confirmed,
    Cancelled,
    RescheduleRequested,
    OptedOut,
    OptedIn,
    Help,
    TooLate,
    Nothing,
}

/// <param name="AppointmentId">The appointment the reply was taken for: what an answer sent back by TwiML is recorded under, for erasure.</param>
public sealed record ReplyResult(ReplyEffect Effect, MessageContext? Appointment = null, long? AppointmentId = null);

/// <summary>
/// What a citizen's answer does, whether it came by SMS or from the keypad of a call: one code
/// path, so that "OUI" and the key 1 have exactly the same effect and tell the agenda the same.
/// </summary>
internal sealed class ReplyHandler(NpgsqlDataSource db, TimeProvider clock, ILogger<ReplyHandler> logger)
{
    /// <summary>A reply after the start gets a short answer only this long after it.</summary>
    private static readonly TimeSpan TooLateWindow = TimeSpan.FromHours(12);

    private static readonly TimeSpan HelpInterval = TimeSpan.FromDays(1);

    /// <summary>An SMS from a citizen: matched to the sender's next upcoming appointment that was messaged.</summary>
    public async Task<ReplyResult> HandleSmsAsync(string from, string body, string messageSid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Twilio retries a webhook it got no answer to: the same SMS is applied once.
        if (await connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from messages where provider_id = @messageSid and direction = 'in')", new { messageSid }, transaction))
        {
            return new ReplyResult(ReplyEffect.Nothing);
        }

        var appointment = await FindAsync(connection, transaction, from, now, upcoming: true);
        // Read in the language the citizen was written to, and in French; answered in theirs.
        var intent = ReplyParser.Parse(body, appointment?.Language);
        if (intent is ReplyIntent.OptOut or ReplyIntent.OptIn)
        {
            await SetOptOutAsync(connection, transaction, from, appointment, intent == ReplyIntent.OptOut, body, messageSid, now);
            await transaction.CommitAsync(cancellationToken);
            return new ReplyResult(intent == ReplyIntent.OptOut ? ReplyEffect.OptedOut : ReplyEffect.OptedIn, appointment?.Context(), appointment?.Id);
        }

        if (appointment is null)
        {
            var started = await FindAsync(connection, transaction, from, now, upcoming: false);
            if (started is null)
            {
                // A number with no upcoming appointment gets no answer.
                return new ReplyResult(ReplyEffect.Nothing);
            }

            await StoreReplyAsync(connection, transaction, started, Channels.Sms, body, messageSid, now);
            await transaction.CommitAsync(cancellationToken);
            return new ReplyResult(ReplyEffect.TooLate, started.Context(), started.Id);
        }

        var result = await ApplyAsync(connection, transaction, appointment, intent, Channels.Sms, body, messageSid, now);
        if (result.Effect == ReplyEffect.Help && !await MayHelpAsync(connection, transaction, from, now))
        {
            result = result with { Effect = ReplyEffect.Nothing };
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>A key pressed during the call of one message.</summary>
    public async Task<ReplyResult> HandleKeyAsync(Guid messageId, ReplyIntent intent, string digits, string callSid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var appointmentId = await connection.ExecuteScalarAsync<long?>(
            "select appointment_id from messages where id = @messageId", new { messageId }, transaction);
        var appointment = appointmentId is null ? null : await LockAsync(connection, transaction, appointmentId.Value);
        if (appointment is null)
        {
            return new ReplyResult(ReplyEffect.Nothing);
        }

        if (appointment.StartsAt <= now || appointment.Outcome is not null || AppointmentStatus.IsCancelled(appointment.Status))
        {
            return new ReplyResult(ReplyEffect.TooLate, appointment.Context(), appointment.Id);
        }

        var result = await ApplyAsync(connection, transaction, appointment, intent, Channels.Voice, $"touche {digits}", $"{callSid}:{digits}", now);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private async Task<ReplyResult> ApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, AppointmentRow appointment, ReplyIntent intent, string channel,
        string replyText, string providerId, DateTimeOffset now)
    {
        await StoreReplyAsync(connection, transaction, appointment, channel, replyText, providerId, now);
        var (effect, status, eventType) = intent switch
        {
            ReplyIntent.Confirm => (ReplyEffect.Confirmed, AppointmentStatus.Confirmed, AgendaEventTypes.Confirmed),
            ReplyIntent.Cancel => (ReplyEffect.Cancelled, AppointmentStatus.CancelledByCitizen, AgendaEventTypes.CancelledByCitizen),
            ReplyIntent.Reschedule => (ReplyEffect.RescheduleRequested, AppointmentStatus.RescheduleRequested, AgendaEventTypes.RescheduleRequested),
            _ => (ReplyEffect.Help, null, null),
        };
        if (status is null)
        {
            return new ReplyResult(effect, appointment.Context(), appointment.Id);
        }

        if (appointment.Status != status)
        {
            await connection.ExecuteAsync(
                """
                update appointments set status = @status, status_changed_at = @now, updated_at = @now,
                    confirmed_at = case when @status = 'confirmed' then @now else confirmed_at end
                where id = @Id
                """,
                new { appointment.Id, status, now }, transaction);
            if (status == AppointmentStatus.CancelledByCitizen)
            {
                await MessageStates.CancelPendingAsync(connection, transaction, appointment.Id, "cancelled by the citizen", now);
            }

            await EventOutbox.RecordAsync(connection, transaction, appointment.TenantId, eventType!,
                new AgendaEventData(appointment.ExternalId, status, channel, replyText), now);
            if (status != AppointmentStatus.Confirmed)
            {
                // RDV-Solidarités hears it too (CONTRACT §10): nothing for an appointment from elsewhere.
                await Reminders.RdvSolidarites.WriteBacks.EnqueueAsync(connection, transaction, appointment.Id, now);
            }
            logger.LogInformation("Appointment {AppointmentId} is now {Status} after a reply by {Channel}", appointment.Id, status, channel);
        }

        return new ReplyResult(effect, appointment.Context(), appointment.Id);
    }

    private static async Task SetOptOutAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, AppointmentRow? appointment, bool optOut,
        string body, string messageSid, DateTimeOffset now)
    {
        // STOP reaches the tenant of the appointment it answers; without one, every tenant that messaged this number.
        var tenants = appointment is not null
            ? [(appointment.TenantId, appointment.ExternalId, appointment.Status)]
            : (await connection.QueryAsync<(long, string, string)>(
                """
                select distinct on (a.tenant_id) a.tenant_id, a.external_id, a.status from appointments a
                where a.phone = @phone and exists (select 1 from messages m where m.appointment_id = a.id and m.direction = 'out' and m.status in ('sent', 'delivered'))
                order by a.tenant_id, a.starts_at desc
                """,
                new { phone }, transaction)).AsList();
        if (appointment is not null)
        {
            await StoreReplyAsync(connection, transaction, appointment, Channels.Sms, body, messageSid, now);
        }

        foreach (var (tenantId, externalId, status) in tenants)
        {
            if (optOut)
            {
                var added = await connection.ExecuteAsync(
                    "insert into opt_outs (tenant_id, phone, created_at) values (@tenantId, @phone, @now) on conflict do nothing",
                    new { tenantId, phone, now }, transaction);
                if (added > 0)
                {
                    await EventOutbox.RecordAsync(connection, transaction, tenantId, AgendaEventTypes.OptedOut,
                        new AgendaEventData(externalId, status, Channels.Sms, body), now);
                }
            }
            else
            {
                await connection.ExecuteAsync("delete from opt_outs where tenant_id = @tenantId and phone = @phone", new { tenantId, phone }, transaction);
            }
        }
    }

    private static async Task<bool> MayHelpAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, DateTimeOffset now)
    {
        var updated = await connection.ExecuteAsync(
            """
            insert into phone_flags (phone, help_sent_at, updated_at) values (@phone, @now, @now)
            on conflict (phone) do update set help_sent_at = @now, updated_at = @now
            where phone_flags.help_sent_at is null or phone_flags.help_sent_at <= @since
            """,
            new { phone, now, since = now - HelpInterval }, transaction);
        return updated > 0;
    }

    private static Task StoreReplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, AppointmentRow appointment, string channel, string body,
        string providerId, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, provider_id, body,
                direction, sent_at, created_at, updated_at)
            values (@messageId, @appointmentId, @TenantId, 'reply', @channel, @PlanVersion, @now, 'delivered', @providerId, @body, 'in', @now, @now, @now)
            on conflict do nothing
            """,
            new { messageId = Guid.CreateVersion7(now), appointmentId = appointment.Id, appointment.TenantId, channel, appointment.PlanVersion, providerId, body = Truncate(body), now },
            transaction);

    private static string Truncate(string body) => body.Length <= 1600 ? body : body[..1600];

    private static async Task<AppointmentRow?> FindAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, DateTimeOffset now, bool upcoming)
    {
        var id = await connection.ExecuteScalarAsync<long?>(
            upcoming
                ? """
                  select a.id from appointments a
                  where a.phone = @phone and a.starts_at > @now and a.outcome is null
                    and a.status in ('scheduled', 'confirmed', 'reschedule_requested')
                    and exists (select 1 from messages m where m.appointment_id = a.id and m.direction = 'out' and m.status in ('sent', 'delivered'))
                  order by a.starts_at
                  limit 1
                  """
                : """
                  select a.id from appointments a
                  where a.phone = @phone and a.starts_at <= @now and a.starts_at > @since
                    and exists (select 1 from messages m where m.appointment_id = a.id and m.direction = 'out' and m.status in ('sent', 'delivered'))
                  order by a.starts_at desc
                  limit 1
                  """,
            new { phone, now, since = now - TooLateWindow }, transaction);
        return id is null ? null : await LockAsync(connection, transaction, id.Value);
    }

    private static Task<AppointmentRow?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long id) =>
        connection.QuerySingleOrDefaultAsync<AppointmentRow>(
            """
            select a.id, a.tenant_id, a.external_id, a.starts_at as starts_at_utc, a.status, a.outcome, a.plan_version, a.service,
                   a.location_name, a.location_address, a.location_phone, a.mode, t.settings::text as settings, a.language
            from appointments a join tenants t on t.id = a.tenant_id
            where a.id = @id
            for update of a
            """,
            new { id }, transaction);

    private sealed record AppointmentRow(
        long Id, long TenantId, string ExternalId, DateTime StartsAtUtc, string Status, string? Outcome, int PlanVersion,
        string? Service, string? LocationName, string? LocationAddress, string? LocationPhone, string Mode, string Settings, string Language)
    {
        public DateTimeOffset StartsAt => StartsAtUtc.AsUtc();

        /// <summary>What the answer to the citizen is written from: in their language (acknowledgments and help).</summary>
        public MessageContext Context() =>
            new(Service, StartsAt, TenantSettings.FromJson(Settings).Zone, Mode, LocationName, LocationAddress, LocationPhone, Language);
    }
}
