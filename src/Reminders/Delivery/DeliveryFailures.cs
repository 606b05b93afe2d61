using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Delivery;

/// <summary>What a failure handler needs of the message that failed.</summary>
public sealed record FailedMessage(
    Guid Id, long TenantId, long AppointmentId, string ExternalId, string AppointmentStatus, string? Phone,
    string Kind, string Channel, bool OnlyIfUnconfirmed, int Attempts, DateTimeOffset StartsAt, int PlanVersion,
    Guid? ClaimToken = null);

/// <summary>Twilio error codes the service acts on.</summary>
internal static class TwilioErrors
{
    public const int InvalidNumber = 21211;
    public const int Unsubscribed = 21610;
    public const int NotMobile = 21614;
    public const int QueueOverflow = 30001;
    public const int UnreachableHandset = 30003;
    public const int Landline = 30006;
}

/// <summary>
/// What a Twilio error means for the citizen, whether Twilio refused the request (Worker) or
/// reported it later in a status callback (Api): one place, one behaviour.
/// </summary>
public static class DeliveryFailures
{
    public static readonly TimeSpan RetryAfterCarrierError = TimeSpan.FromMinutes(30);

    public const int MaxAttempts = 4;

    public static async Task HandleAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, FailedMessage m, int? code, string error,
        TenantSettings settings, DateTimeOffset now, ILogger logger)
    {
        logger.LogWarning("Message {MessageId} failed with Twilio code {ErrorCode}", m.Id, code);
        switch (code)
        {
            case var refusal when SendingPause.IsAccountRefusal(refusal, error):
                // The account, not this message: all sending pauses (Budgets/SendingPause.cs).
                await SendingPause.PauseAsync(connection, transaction, m.Id, m.ClaimToken, m.StartsAt, error, now, logger);
                return;

            case TwilioErrors.Unsubscribed:
                // The citizen sent STOP to Twilio's own opt-out: honour it for this tenant.
                await connection.ExecuteAsync(
                    "insert into opt_outs (tenant_id, phone, created_at) values (@TenantId, @Phone, @now) on conflict do nothing",
                    new { m.TenantId, m.Phone, now }, transaction);
                await FailAsync(connection, transaction, m, error, now, tellAgenda: false);
                await EventOutbox.RecordAsync(connection, transaction, m.TenantId, AgendaEventTypes.OptedOut,
                    new AgendaEventData(m.ExternalId, m.AppointmentStatus, m.Channel), now);
                return;

            case TwilioErrors.QueueOverflow or TwilioErrors.UnreachableHandset when m.Attempts < MaxAttempts && now + RetryAfterCarrierError < m.StartsAt:
                // Passing: Twilio's queue for the sender overflowed (30001), or the phone was off or out of
                // reach (30003). Try again later with a new message; this one keeps its history.
                await FailAsync(connection, transaction, m, error, now, tellAgenda: false);
                await InsertRetryAsync(connection, transaction, m, m.Channel,
                    QuietHoursClock.NextAllowed(now + RetryAfterCarrierError, settings.Zone, settings.QuietHours), m.Attempts, now);
                return;

            case TwilioErrors.InvalidNumber or TwilioErrors.NotMobile or TwilioErrors.Landline when m.Phone is not null:
                await connection.ExecuteAsync(
                    """
                    insert into phone_flags (phone, sms_unusable, updated_at) values (@Phone, true, @now)
                    on conflict (phone) do update set sms_unusable = true, updated_at = @now
                    """,
                    new { m.Phone, now }, transaction);
                if (code is TwilioErrors.Landline or TwilioErrors.NotMobile && m.Channel == Channels.Sms)
                {
                    // A landline: this citizen is reached by calls from now on, starting with this message.
                    await AppointmentStates.SwitchToCallsAsync(connection, transaction, m.Phone);
                    await FailAsync(connection, transaction, m, error, now, tellAgenda: false);
                    var at = QuietHoursClock.NextAllowed(now, settings.Zone, settings.QuietHours);
                    if (at < m.StartsAt)
                    {
                        await InsertRetryAsync(connection, transaction, m, Channels.Voice, at, 0, now);
                        return;
                    }

                    await TellAgendaAsync(connection, transaction, m, error, now);
                    return;
                }

                break;
        }

        await FailAsync(connection, transaction, m, error, now, tellAgenda: true);
    }

    private static async Task FailAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, FailedMessage m, string error, DateTimeOffset now, bool tellAgenda)
    {
        await MessageStates.FailAsync(connection, transaction, m.Id, m.ClaimToken, error, now);
        if (tellAgenda)
        {
            await TellAgendaAsync(connection, transaction, m, error, now);
        }
    }

    private static Task TellAgendaAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, FailedMessage m, string error, DateTimeOffset now) =>
        EventOutbox.RecordAsync(connection, transaction, m.TenantId, AgendaEventTypes.MessageFailed,
            new AgendaEventData(m.ExternalId, m.AppointmentStatus, m.Channel, MessageId: m.Id.ToString(), Error: error), now);

    private static Task InsertRetryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, FailedMessage m, string channel, DateTimeOffset dueAt, int attempts, DateTimeOffset now) =>
        MessagePlans.InsertRetryAsync(connection, transaction, m.AppointmentId, m.TenantId, m.Kind, channel, m.OnlyIfUnconfirmed, m.PlanVersion,
            dueAt, attempts, now);
}
