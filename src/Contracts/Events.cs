namespace RappelRdv.Contracts;

/// <summary>What is POSTed to a tenant's <c>webhook.url</c>, signed the Standard Webhooks way.</summary>
public sealed record AgendaEvent(string Type, DateTimeOffset Timestamp, AgendaEventData Data);

public sealed record AgendaEventData(
    string ExternalId,
    string Status,
    string? Channel = null,
    string? Reply = null,
    string? MessageId = null,
    string? Error = null);

public static class AgendaEventTypes
{
    public const string Confirmed = "appointment.confirmed";
    public const string CancelledByCitizen = "appointment.cancelled_by_citizen";
    public const string RescheduleRequested = "appointment.reschedule_requested";
    public const string MessageFailed = "message.failed";
    public const string OptedOut = "citizen.opted_out";
}
