using System.Text.Json;
using System.Text.Json.Serialization;

namespace RappelRdv.Api.RdvSolidarites;

// The webhooks of RDV-Solidarités (RDV Service Public) as it sends them: `data` is the object in
// the format of its REST API, `meta` says what happened. Only what the connector reads is declared;
// the many other fields are skipped. Everything is nullable: RDV-Solidarités sends null wherever a
// value can be missing, and the mapping decides what is required.

internal sealed record RdvsEnvelope(JsonElement? Data, RdvsMeta? Meta);

/// <param name="Timestamp">When the payload was computed. Newer versions of the documentation call
/// it <c>payload_computed_at</c> (beside <c>event_occurred_at</c>); both are read.</param>
internal sealed record RdvsMeta(
    string? Model, string? Event, string? Timestamp, string? WebhookReason, string? PayloadComputedAt, string? EventOccurredAt);

internal sealed record RdvsRdv(
    long? Id,
    string? Status,
    string? StartsAt,
    int? DurationInMin,
    RdvsMotif? Motif,
    RdvsLieu? Lieu,
    IReadOnlyList<RdvsUser?>? Users,
    IReadOnlyList<RdvsParticipation?>? Participations);

internal sealed record RdvsMotif(string? Name, string? LocationType);

internal sealed record RdvsLieu(string? Name, string? Address, string? PhoneNumber);

internal sealed record RdvsParticipation(
    long? Id,
    string? Status, bool? SendLifecycleNotifications, bool? SendReminderNotification, RdvsUser? User);

internal sealed record RdvsUser(
    long? Id,
    string? FirstName,
    string? LastName,
    string? PhoneNumber,
    string? PhoneNumberFormatted,
    bool? NotifyBySms,
    RdvsUser? Responsible);

internal static class RdvsJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };
}

/// <summary>The words of RDV-Solidarités.</summary>
internal static class Rdvs
{
    public const string ModelRdv = "Rdv";

    public const string Created = "created";
    public const string Updated = "updated";
    public const string Destroyed = "destroyed";

    /// <summary><c>webhook_reason</c> of an RDV deleted to honour the citizen's right to erasure.</summary>
    public const string ReasonRgpd = "rgpd";

    public const string StatusUnknown = "unknown";
    public const string StatusSeen = "seen";
    public const string StatusNoShow = "noshow";
    public const string StatusExcused = "excused";
    public const string StatusRevoked = "revoked";
}
