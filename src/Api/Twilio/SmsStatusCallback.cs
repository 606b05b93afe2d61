using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Delivery;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Twilio;

/// <summary><c>POST /twilio/sms/status</c>: Twilio tells how an SMS fared.</summary>
internal static class SmsStatusCallback
{
    public static async Task<IResult> Handle(HttpRequest request, NpgsqlDataSource db, TimeProvider clock, ILogger<SmsStatus> logger, CancellationToken cancellationToken)
    {
        var form = await request.ReadFormAsync(cancellationToken);
        var sid = form["MessageSid"].ToString();
        var status = form["MessageStatus"].ToString();
        int? code = int.TryParse(form["ErrorCode"], out var parsed) ? parsed : null;
        if (string.IsNullOrEmpty(sid))
        {
            return TypedResults.Problem(statusCode: 400, title: "MessageSid is required");
        }

        // The callback URL of a message sent since 0007 names it (?m=): no need to wait for its SID.
        Guid? messageId = Guid.TryParseExact(request.Query["m"].ToString(), "N", out var parsedId) ? parsedId : null;
        var select = messageId is null ? Select : SelectById;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // Twilio can call back before the Worker has committed the SID it just received: wait for it briefly.
        MessageRow? message = null;
        for (var attempt = 0; attempt < 20 && message is null; attempt++)
        {
            if (attempt > 0)
            {
                await Task.Delay(100, cancellationToken);
            }

            message = await connection.QuerySingleOrDefaultAsync<MessageRow>(select, new { sid, messageId });
        }

        if (message is null)
        {
            logger.LogWarning("Status callback for an unknown message {MessageSid}", sid);
            return TypedResults.Ok();
        }

        var now = clock.GetUtcNow();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Lock the appointment first, as every writer does, then read the message again: a send in
        // progress holds this lock, so what we read is what it committed.
        await connection.ExecuteAsync("select 1 from appointments where id = @AppointmentId for update", new { message.AppointmentId }, transaction);
        message = await connection.QuerySingleAsync<MessageRow>(select, new { sid, messageId }, transaction);
        if (message.Status == "sending" && await MessageStates.RecordAcceptedAsync(connection, transaction, message.Id, sid, now))
        {
            // Twilio's answer to the send was lost, but Twilio has the message: it is sent, and never sent again.
            logger.LogInformation("Message {MessageId} recorded as sent from its status callback", message.Id);
            message = message with { Status = "sent" };
        }

        switch (status)
        {
            case "delivered" when message.Status is "sent" or "sending":
                await MessageStates.MarkDeliveredAsync(connection, transaction, message.Id, now);
                break;

            case "undelivered" or "failed" when message.Status is "sent" or "sending" or "delivered":
                var settings = TenantSettings.FromJson(message.Settings);
                await DeliveryFailures.HandleAsync(connection, transaction,
                    new FailedMessage(message.Id, message.TenantId, message.AppointmentId, message.ExternalId, message.AppointmentStatus,
                        message.Phone, message.Kind, message.Channel, message.OnlyIfUnconfirmed, message.Attempts,
                        message.StartsAt.AsUtc(), message.PlanVersion),
                    code, $"{code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}: {status} (status callback)",
                    settings, now, logger);
                break;
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok();
    }

    internal sealed class SmsStatus;

    private sealed record MessageRow(
        Guid Id, long TenantId, long AppointmentId, string ExternalId, string AppointmentStatus, string? Phone, string Kind,
        string Channel, bool OnlyIfUnconfirmed, int Attempts, DateTime StartsAt, int PlanVersion, string Status, string Settings);

    private const string Select =
        """
        select m.id, m.tenant_id, m.appointment_id, a.external_id, a.status as appointment_status, a.phone, m.kind, m.channel,
               m.only_if_unconfirmed, m.attempts, a.starts_at, m.plan_version, m.status, t.settings::text as settings
        from messages m join appointments a on a.id = m.appointment_id join tenants t on t.id = m.tenant_id
        where m.provider_id = @sid
        """;

    private const string SelectById =
        """
        select m.id, m.tenant_id, m.appointment_id, a.external_id, a.status as appointment_status, a.phone, m.kind, m.channel,
               m.only_if_unconfirmed, m.attempts, a.starts_at, m.plan_version, m.status, t.settings::text as settings
        from messages m join appointments a on a.id = m.appointment_id join tenants t on t.id = m.tenant_id
        where m.id = @messageId
        """;
}
