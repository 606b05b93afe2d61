using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Delivery;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Texts;
using RappelRdv.Reminders.Twilio;

namespace RappelRdv.Reminders.Replies;

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

/// <summary>What a call speaks: its kind and what it is written from.</summary>
public sealed record CallScript(string Kind, MessageContext Context)
{
    public string Language => Context.Language;

    /// <summary>The citizen's language's Twilio voice: the call is spoken and its keys prompted in it.</summary>
    public Language Voice => Languages.Of(Context.Language);
}

/// <summary>
/// What citizens and Twilio tell the service about a message, applied: an SMS reply, a key pressed
/// during a call, how a call ended, how an SMS fared. Each is one transaction that locks the
/// appointment first (as every writer does), changes it and its messages through their modules,
/// records the reply message and enqueues what the agenda must hear. The Api only reads Twilio's
/// forms, checks their signatures and writes TwiML; "OUI" and the key 1 take one code path.
/// </summary>
public sealed class CitizenAnswers(NpgsqlDataSource db, TimeProvider clock, ILogger<CitizenAnswers> logger)
{
    /// <summary>A reply after the start gets a short answer only this long after it.</summary>
    private static readonly TimeSpan TooLateWindow = TimeSpan.FromHours(12);

    private static readonly TimeSpan HelpInterval = TimeSpan.FromDays(1);

    /// <summary>Calls tried at most this many times, at least this far apart.</summary>
    public const int MaxCallTries = 3;

    public static readonly TimeSpan CallRetryInterval = TimeSpan.FromHours(1);

    // ---- Replies ------------------------------------------------------------------------------------------

    /// <summary>An SMS from a citizen: matched to the sender's next upcoming appointment that was messaged.</summary>
    public async Task<ReplyResult> SmsReplyAsync(string from, string body, string messageSid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Twilio retries a webhook it got no answer to: the same SMS is applied once.
        if (await MessageStates.ReplyRecordedAsync(connection, transaction, messageSid))
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

            await RecordReplyAsync(connection, transaction, started, Channels.Sms, body, messageSid, now);
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
    public async Task<ReplyResult> KeyPressedAsync(Guid messageId, ReplyIntent intent, string digits, string callSid, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var appointmentId = await connection.ExecuteScalarAsync<long?>(
            "select appointment_id from messages where id = @messageId", new { messageId }, transaction);
        var appointment = appointmentId is null ? null : await AppointmentStates.LockForReplyAsync(connection, transaction, appointmentId.Value);
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
        NpgsqlConnection connection, NpgsqlTransaction transaction, ReplyingAppointment appointment, ReplyIntent intent, string channel,
        string replyText, string providerId, DateTimeOffset now)
    {
        await RecordReplyAsync(connection, transaction, appointment, channel, replyText, providerId, now);
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
            await AppointmentStates.SetStatusByCitizenAsync(connection, transaction, appointment.Id, status, now);
            if (status == AppointmentStatus.CancelledByCitizen)
            {
                await MessageStates.CancelPendingAsync(connection, transaction, appointment.Id, "cancelled by the citizen", now);
            }

            await EventOutbox.RecordAsync(connection, transaction, appointment.TenantId, eventType!,
                new AgendaEventData(appointment.ExternalId, status, channel, replyText), now);
            if (status is AppointmentStatus.CancelledByCitizen or AppointmentStatus.RescheduleRequested)
            {
                await CitizenCancelledOrAskedToRescheduleAsync(connection, transaction, appointment, now);
            }

            logger.LogInformation("Appointment {AppointmentId} is now {Status} after a reply by {Channel}", appointment.Id, status, channel);
        }

        return new ReplyResult(effect, appointment.Context(), appointment.Id);
    }

    /// <summary>
    /// The citizen cancelled or asked to reschedule, inside the reply's transaction: every other outbox the
    /// change must reach is written here, committed with it. RDV-Solidarités hears it through its own API
    /// (CONTRACT §10); nothing is written for an appointment from elsewhere.
    /// </summary>
    private static Task CitizenCancelledOrAskedToRescheduleAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ReplyingAppointment appointment, DateTimeOffset now) =>
        RdvSolidarites.WriteBacks.EnqueueAsync(connection, transaction, appointment.Id, now);

    private static async Task SetOptOutAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, ReplyingAppointment? appointment, bool optOut,
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
            await RecordReplyAsync(connection, transaction, appointment, Channels.Sms, body, messageSid, now);
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

    private static Task RecordReplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, ReplyingAppointment appointment, string channel, string body,
        string providerId, DateTimeOffset now) =>
        MessageStates.RecordReplyAsync(connection, transaction, appointment.Id, appointment.TenantId, appointment.PlanVersion, channel, body, providerId, now);

    private static async Task<ReplyingAppointment?> FindAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string phone, DateTimeOffset now, bool upcoming)
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
        return id is null ? null : await AppointmentStates.LockForReplyAsync(connection, transaction, id.Value);
    }

    // ---- Calls --------------------------------------------------------------------------------------------

    /// <summary>What the call of this message says, or null when it has nothing to say any more (gone, over, cancelled).</summary>
    public async Task<CallScript?> CallScriptAsync(Guid messageId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var m = await MessageSnapshots.ByIdAsync(connection, null, messageId, Channels.Voice);
        var now = clock.GetUtcNow();
        if (m is null || m.StartsAt <= now || m.Phone is null
            || (m.Kind != MessageKinds.Cancellation && (AppointmentStatus.IsCancelled(m.AppointmentStatus) || m.Outcome is not null)))
        {
            return null;
        }

        return new CallScript(m.Kind, m.Context());
    }

    /// <summary>Twilio's last status of a call (<c>completed</c>, <c>busy</c>, <c>no-answer</c>, <c>failed</c>, <c>canceled</c>): delivered, tried again, or failed.</summary>
    public async Task CallEndedAsync(Guid messageId, string status, string callSid, int? callSeconds, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // The Worker holds this lock while it places the call: we see its commit.
        await connection.ExecuteAsync(
            "select 1 from appointments where id = (select appointment_id from messages where id = @messageId) for update",
            new { messageId }, transaction);
        var m = await MessageSnapshots.ByIdAsync(connection, transaction, messageId, Channels.Voice);
        if (m is null)
        {
            return;
        }

        // This call exists at Twilio whatever becomes of the message: a call settled here from 'sending' never had
        // its SID stored, a call tried again gets a new one. Recorded, it is deleted there with the appointment.
        await TwilioSids.RecordAsync(connection, transaction, callSid, m.AppointmentId, now);
        if (m.Status is not ("sent" or "sending"))
        {
            await transaction.CommitAsync(cancellationToken);
            return;
        }

        if (status == "completed")
        {
            // CallDuration (seconds) is what the usage trigger bills, in minutes rounded up (migration 0010).
            await MessageStates.MarkDeliveredAsync(connection, transaction, messageId, now, callSeconds);
        }
        else
        {
            var settings = m.TenantSettings;
            var next = QuietHoursClock.NextAllowed(now + CallRetryInterval, settings.Zone, settings.QuietHours);
            if (m.Attempts < MaxCallTries && next < m.StartsAt)
            {
                await MessageStates.RetryCallAsync(connection, transaction, messageId, next, $"{status} (try {m.Attempts} of {MaxCallTries})", now);
            }
            else
            {
                await DeliveryFailures.HandleAsync(connection, transaction, Failed(m, Channels.Voice),
                    null, $"call {status} after {m.Attempts} tries", settings, now, logger);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    // ---- SMS status callbacks -----------------------------------------------------------------------------

    /// <summary>
    /// Twilio's status of an SMS (<c>delivered</c>, <c>undelivered</c>, <c>failed</c>, …), found by the message
    /// id of its callback URL or else by its SID. False when no message has it.
    /// </summary>
    public async Task<bool> SmsStatusAsync(string sid, Guid? messageId, string status, int? code, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // Twilio can call back before the Worker has committed the SID it just received: wait for it briefly.
        MessageSnapshot? message = null;
        for (var attempt = 0; attempt < 20 && message is null; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(100, cancellationToken);
            }

            message = await SmsAsync(connection, null, sid, messageId);
        }

        if (message is null)
        {
            logger.LogWarning("Status callback for an unknown message {MessageSid}", sid);
            return false;
        }

        var now = clock.GetUtcNow();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Lock the appointment first, as every writer does, then read the message again: a send in
        // progress holds this lock, so what we read is what it committed.
        await connection.ExecuteAsync("select 1 from appointments where id = @AppointmentId for update", new { message.AppointmentId }, transaction);
        message = (await SmsAsync(connection, transaction, sid, messageId))!;
        var messageStatus = message.Status;
        if (messageStatus == "sending" && await MessageStates.RecordAcceptedAsync(connection, transaction, message.Id, sid, now))
        {
            // Twilio's answer to the send was lost, but Twilio has the message: it is sent, and never sent again.
            logger.LogInformation("Message {MessageId} recorded as sent from its status callback", message.Id);
            messageStatus = "sent";
        }

        switch (status)
        {
            case "delivered" when messageStatus is "sent" or "sending":
                await MessageStates.MarkDeliveredAsync(connection, transaction, message.Id, now);
                break;

            case "undelivered" or "failed" when messageStatus is "sent" or "sending" or "delivered":
                await DeliveryFailures.HandleAsync(connection, transaction, Failed(message, message.Channel),
                    code, $"{code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}: {status} (status callback)",
                    message.TenantSettings, now, logger);
                break;
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private static Task<MessageSnapshot?> SmsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sid, Guid? messageId) =>
        messageId is { } id ? MessageSnapshots.ByIdAsync(connection, transaction, id) : MessageSnapshots.BySidAsync(connection, transaction, sid);

    /// <summary>A callback's failure carries no claim: it changes the message whatever claim it has.</summary>
    private static FailedMessage Failed(MessageSnapshot m, string channel) =>
        new(m.Id, m.TenantId, m.AppointmentId, m.ExternalId, m.AppointmentStatus, m.Phone, m.Kind, channel,
            m.OnlyIfUnconfirmed, m.Attempts, m.StartsAt, m.PlanVersion);
}
