using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RappelRdv.Api.Tests;

/// <summary>A user of RDV-Solidarités; <paramref name="Phone"/> as an agent types it (null: none).</summary>
internal sealed record RdvsPerson(long Id, string FirstName, string LastName, string? Phone, bool NotifyBySms = true, RdvsPerson? Responsible = null)
{
    public static readonly RdvsPerson Awa = new(10, "Awa", "Diallo", "06 12 34 56 78");
    public static readonly RdvsPerson Karim = new(11, "Karim", "Benali", "07 61 23 45 67");
    public static readonly RdvsPerson Lucie = new(12, "Lucie", "Martin", "06 98 76 54 32");
    public static readonly RdvsPerson Landline = new(13, "Jean", "Roux", "04 94 12 34 56");
    public static readonly RdvsPerson Nobody = new(14, "Marc", "Petit", null);
    /// <summary>A child without a number, whose mother has one.</summary>
    public static readonly RdvsPerson Noah = new(15, "Noah", "Diallo", null, Responsible: Awa);

    public string? E164 => Phone is null ? null : "+33" + new string([.. Phone.Where(char.IsDigit)])[1..];
}

internal sealed record RdvsParticipant(RdvsPerson User, string? Status = "unknown", bool SendReminder = true, bool SendLifecycle = true);

/// <summary>
/// Builds webhooks of RDV-Solidarités in its own format (RdvBlueprint, ParticipationBlueprint,
/// UserBlueprint), with the fields the connector ignores too, so that the tests read them as it
/// will in production. Change what a test is about with <c>with { … }</c>.
/// </summary>
internal sealed record RdvsWebhook
{
    public string Model { get; init; } = "Rdv";
    public string Event { get; init; } = "created";
    public string Timestamp { get; init; } = "2026-11-27T10:00:00.000+01:00";
    public string? Reason { get; init; }
    public long RdvId { get; init; } = 4201;
    public string Status { get; init; } = "unknown";
    public string StartsAt { get; init; } = "2026-12-03T09:30:00.000+01:00";
    public int DurationInMin { get; init; } = 30;
    public string Motif { get; init; } = "RSA - Orientation";
    public string LocationType { get; init; } = "public_office";
    public bool HasLieu { get; init; } = true;
    public bool Collectif { get; init; }
    public IReadOnlyList<RdvsParticipant> Participants { get; init; } = [new(RdvsPerson.Awa)];

    public static RdvsWebhook OneToOne(RdvsPerson? person = null) => new() { Participants = [new(person ?? RdvsPerson.Awa)] };

    public static RdvsWebhook Collective(params RdvsPerson[] people) => new()
    {
        RdvId = 4300, Collectif = true, Motif = "Atelier collectif CV",
        Participants = [.. people.Select(p => new RdvsParticipant(p))],
    };

    public static RdvsWebhook PhoneCall() => OneToOne() with { RdvId = 4400, LocationType = "phone", HasLieu = false, Motif = "Entretien téléphonique RSA" };

    public string ExternalId(RdvsPerson person) => $"rdvs-{RdvId}-{person.Id}";

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(ToJson());

    public JsonObject ToJson()
    {
        var startsAt = DateTimeOffset.Parse(StartsAt, CultureInfo.InvariantCulture);
        var data = new JsonObject
        {
            ["id"] = RdvId,
            ["uuid"] = "8fae4d5f-4d63-4f4f-a1a4-0d6c5b9a1e20",
            ["status"] = Status,
            ["starts_at"] = StartsAt,
            ["ends_at"] = startsAt.AddMinutes(DurationInMin).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
            ["duration_in_min"] = DurationInMin,
            ["address"] = HasLieu ? "12 rue Picot, 83000 Toulon" : "",
            ["context"] = null,
            ["cancelled_at"] = Status is "excused" or "revoked" ? Timestamp : null,
            ["max_participants_count"] = Collectif ? 12 : null,
            ["users_count"] = Participants.Count,
            ["name"] = Collectif ? "Atelier CV de décembre" : null,
            ["collectif"] = Collectif,
            ["created_by_type"] = "Agent",
            ["created_by_id"] = 7,
            ["created_at"] = "2026-11-20T14:02:11.000+01:00",
            ["created_by"] = "agent",
            ["url_for_agents"] = $"https://www.rdv-solidarites.fr/admin/organisations/83/rdvs/{RdvId}",
            ["organisation"] = new JsonObject
            {
                ["id"] = 83, ["name"] = "UTS Toulon Ouest", ["email"] = "uts-toulon-ouest@var.fr", ["phone_number"] = "04 94 00 00 00",
            },
            ["motif"] = new JsonObject
            {
                ["id"] = 501, ["name"] = Motif, ["location_type"] = LocationType, ["service_id"] = 3, ["organisation_id"] = 83,
                ["bookable_publicly"] = false, ["bookable_by"] = "agents", ["deleted_at"] = null,
                ["motif_category"] = new JsonObject { ["id"] = 2, ["name"] = "RSA orientation", ["short_name"] = "rsa_orientation" },
            },
            ["lieu"] = HasLieu
                ? new JsonObject
                {
                    ["id"] = 61, ["name"] = "UTS Toulon Ouest", ["address"] = "12 rue Picot, 83000 Toulon",
                    ["phone_number"] = "04 94 00 00 00", ["single_use"] = false, ["organisation_id"] = 83,
                }
                : null,
            ["agents"] = new JsonArray(new JsonObject
            {
                ["id"] = 7, ["email"] = "martine.validay@var.fr", ["first_name"] = "Martine", ["last_name"] = "VALIDAY",
            }),
            ["users"] = new JsonArray([.. Participants.Select(p => (JsonNode?)User(p.User))]),
            ["participations"] = new JsonArray([.. Participants.Select((p, i) => (JsonNode?)new JsonObject
            {
                ["id"] = (RdvId * 100) + i,
                ["status"] = p.Status,
                ["send_lifecycle_notifications"] = p.SendLifecycle,
                ["send_reminder_notification"] = p.SendReminder,
                ["created_by"] = "agent",
                ["created_by_type"] = "Agent",
                ["created_by_id"] = 7,
                ["created_by_agent_prescripteur"] = false,
                ["user"] = User(p.User),
            })]),
        };
        return Envelope(Model, Event, Timestamp, Reason, data);
    }

    /// <summary>Another model on the same URL: an agent's absence.</summary>
    public static byte[] Absence() => JsonSerializer.SerializeToUtf8Bytes(Envelope("Absence", "created", "2026-11-27T10:00:00.000+01:00", null,
        new JsonObject
        {
            ["id"] = 77, ["ical_uid"] = "absence_77@RDV Solidarités", ["title"] = "Formation", ["first_day"] = "2026-12-07",
            ["end_day"] = "2026-12-07", ["start_time"] = "09:00:00", ["end_time"] = "12:00:00", ["recurrence"] = null,
            ["agent"] = new JsonObject { ["id"] = 7, ["email"] = "martine.validay@var.fr", ["first_name"] = "Martine", ["last_name"] = "VALIDAY" },
            ["organisation"] = new JsonObject { ["id"] = 83, ["name"] = "UTS Toulon Ouest" },
        }));

    private static JsonObject Envelope(string model, string @event, string timestamp, string? reason, JsonObject data) => new()
    {
        ["data"] = data,
        ["meta"] = new JsonObject { ["model"] = model, ["event"] = @event, ["webhook_reason"] = reason, ["timestamp"] = timestamp },
    };

    private static JsonObject User(RdvsPerson person) => new()
    {
        ["id"] = person.Id,
        ["first_name"] = person.FirstName,
        ["birth_name"] = null,
        ["last_name"] = person.LastName,
        ["email"] = $"{person.FirstName.ToLowerInvariant()}@example.org",
        ["address"] = "3 impasse des Lilas, 83000 Toulon",
        ["phone_number"] = person.Phone,
        ["phone_number_formatted"] = person.E164,
        ["birth_date"] = "1990-04-12",
        ["responsible_id"] = person.Responsible?.Id,
        ["caisse_affiliation"] = "caf",
        ["affiliation_number"] = "1234567",
        ["family_situation"] = "single",
        ["number_of_children"] = 1,
        ["notify_by_sms"] = person.NotifyBySms,
        ["notify_by_email"] = true,
        ["invitation_created_at"] = null,
        ["invitation_accepted_at"] = null,
        ["created_at"] = "2026-10-02T11:00:00.000+02:00",
        ["case_number"] = null,
        ["address_details"] = null,
        ["logement"] = null,
        ["notes"] = null,
        ["contact_email"] = null,
        ["responsible"] = person.Responsible is { } responsible ? User(responsible) : null,
    };
}
