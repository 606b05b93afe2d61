using System.ComponentModel;

namespace RappelRdv.Contracts;

/// <summary>What is POSTed to a tenant's <c>webhook.url</c>, signed the Standard Webhooks way.</summary>
[Description("An event sent to the tenant's `webhook.url`.")]
public sealed record AgendaEvent(
    [property: Description("What happened: one of the events under the API document's `webhooks`.")] string Type,
    [property: Description("When it happened, in UTC.")] DateTimeOffset Timestamp,
    AgendaEventData Data);

[Description("The appointment concerned, as it now is.")]
public sealed record AgendaEventData(
    [property: Description("The agenda's id of the appointment.")] string ExternalId,
    [property: Description("The appointment's status after the event.")] string Status,
    [property: Description("`sms` or `voice`: how the citizen answered, or the message that failed.")] string? Channel = null,
    [property: Description("The citizen's words (or key) that caused it.")] string? Reply = null,
    [property: Description("For `message.failed`: the message, as in `messages` of `GET`.")] string? MessageId = null,
    [property: Description("For `message.failed`: why, as the provider said.")] string? Error = null);

public static class AgendaEventTypes
{
    public const string Confirmed = "appointment.confirmed";
    public const string CancelledByCitizen = "appointment.cancelled_by_citizen";
    public const string RescheduleRequested = "appointment.reschedule_requested";
    public const string MessageFailed = "message.failed";
    public const string OptedOut = "citizen.opted_out";
}
