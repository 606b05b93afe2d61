using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Contracts;

/// <summary>Body of <c>POST /v1/admin/tenants</c> and <c>PUT /v1/admin/tenants/{slug}</c>.</summary>
[Description("A tenant's settings. Only `slug` (on creation) and `name` are required; a field left out takes its default.")]
public sealed record TenantRequest(
    [property: Description("1 to 64 lower-case letters, digits and dashes (`var-cd83`); on a PUT, that of the URL or absent.")] string? Slug,
    [property: Required, Description("At most 200 characters.")] string? Name,
    [property: Description("An IANA time zone; default `Europe/Paris`.")] string? TimeZone = null,
    [property: Description("At most 5; default one SMS two days before.")] IReadOnlyList<ReminderStepRequest>? Reminders = null,
    [property: Description("Local times between which nothing is sent; default 20:00 to 08:30; `null` for none.")] QuietHoursRequest? QuietHours = null,
    [property: Description("Confirm a new appointment to the citizen; default true.")] bool? NotifyOnCreate = null,
    [property: Description("Tell the citizen of a new time; default true.")] bool? NotifyOnChange = null,
    [property: Description("Tell the citizen of a cancellation by the service; default true.")] bool? NotifyOnCancel = null,
    [property: Description("0 to 50: that share of appointments, drawn at random, gets no reminder; default 0.")] int? HoldoutPercent = null,
    [property: Description("1 to 3650: days after an appointment when its personal data is erased; default 180.")] int? RetentionDays = null,
    WebhookRequest? Webhook = null,
    RdvSolidaritesRequest? RdvSolidarites = null,
    BudgetRequest? Budget = null,
    IReadOnlyList<string>? Managers = null,
    TextsRequest? Texts = null,
    RiskRemindersRequest? RiskReminders = null);

/// <summary>
/// An extra reminder for citizens who missed before (CONTRACT §11): absent or <c>null</c>, off.
/// </summary>
[Description("An extra reminder for citizens who missed before: a new appointment of a citizen (same phone) with at least `minNoShows` no-shows among the tenant's appointments that started in the last `lookbackDays` is at risk; `holdoutPercent` of those, drawn at random, are `held_out` (only the tenant's plan), the others `targeted` (the `add` reminders on top). Absent or `null`: off.")]
public sealed record RiskRemindersRequest(
    [property: Required, Description("At least 1.")] int? MinNoShows,
    [property: Required, Description("1 to 730: how far back a no-show counts, in days.")] int? LookbackDays,
    [property: Required, Description("1 to 5 reminders, as in `reminders`.")] IReadOnlyList<ReminderStepRequest>? Add,
    [property: Description("0 to 50: the share of at-risk appointments held out to measure the extra reminders; default 0.")] int? HoldoutPercent = null);

/// <summary>Monthly caps: SMS segments and call minutes; <c>null</c> is no cap.</summary>
public sealed record BudgetRequest(int? MonthlySegments, int? MonthlyCallMinutes);

[Description("One reminder of the plan.")]
public sealed record ReminderStepRequest(
    [property: Required, Description("`sms` or `voice`.")] string? Channel,
    [property: Required, Description("How long before `startsAt`: an ISO 8601 duration from PT1M to P60D (`P2D`, `PT3H`).")] string? Before,
    [property: Description("Only when the citizen has not confirmed yet; default false.")] bool? OnlyIfUnconfirmed = null);

public sealed record QuietHoursRequest(
    [property: Required, Description("`HH:mm`, tenant's local time.")] string? From,
    [property: Required, Description("`HH:mm`, tenant's local time.")] string? To);

[Description("Where the events are POSTed, signed with the tenant's `webhookSecret`.")]
public sealed record WebhookRequest([property: Required, Description("https (http and private addresses only where allowed).")] string? Url);

[Description("The secret shared with RDV-Solidarités, which signs its webhooks with it; `api` to write the citizens' answers back.")]
public sealed record RdvSolidaritesRequest(
    [property: Required, Description("8 to 256 characters.")] string? Secret,
    RdvSolidaritesApiRequest? Api = null);

/// <summary>
/// The tenant's own words (CONTRACT §9.4): <c>templates</c> by language then kind (confirmation,
/// reminder, change, cancellation), with {service}, {day}, {time}, {place}; <c>experiment</c> a
/// wording trial whose variants hold templates the same way (an empty variant: the tenant's).
/// </summary>
public sealed record TextsRequest(
    string? DefaultLanguage = null,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string?>?>? Templates = null,
    ExperimentRequest? Experiment = null);

public sealed record ExperimentRequest(
    [property: Required] string? Name,
    [property: Required] IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string?>?>?>? Variants);

/// <summary>Answer to a tenant creation or key rotation: the only time keys are shown.</summary>
[Description("The tenant's keys, shown in this answer only (only their hashes are stored).")]
public sealed record TenantKeys(string Slug, string ApiKey, string ManagerKey, string WebhookSecret);

/// <summary><c>POST /v1/admin/tenants/{slug}/keys</c>: which keys to replace (<c>apiKey</c>, <c>managerKey</c>, <c>webhookSecret</c>); no body: all three.</summary>
public sealed record KeyRotationRequest(IReadOnlyList<string>? Rotate);

/// <summary><c>POST /v1/admin/tenants/{slug}/erasures</c>: a citizen asked that their data be erased.</summary>
public sealed record ErasureRequest(
    [property: Required, Description("The citizen's phone number, in any notation the appointments accept: French (ten digits from 0) or international (E.164, from +).")] string? Phone);

/// <summary>What an erasure on request did.</summary>
[Description("How many of the tenant's appointments had this number and were erased (0 when none had it).")]
public sealed record ErasureResult([property: Required] int Appointments);

/// <summary>The keys a rotation made, and only those: a key that was not rotated is absent.</summary>
[Description("The keys a rotation made, shown in this answer only; a key that was not rotated is absent.")]
public sealed record RotatedKeys(
    [property: Required] string Slug,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ApiKey = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ManagerKey = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? WebhookSecret = null);

/// <summary>A tenant's settings as <c>GET /v1/admin/tenants/{slug}</c> returns them: no secrets.</summary>
[Description("A tenant's settings with their defaults applied; never a key or a secret.")]
public sealed record TenantView(
    string Slug,
    string Name,
    string TimeZone,
    IReadOnlyList<ReminderStepView> Reminders,
    QuietHoursView? QuietHours,
    bool NotifyOnCreate,
    bool NotifyOnChange,
    bool NotifyOnCancel,
    int HoldoutPercent,
    int RetentionDays,
    WebhookView? Webhook,
    RdvSolidaritesView? RdvSolidarites,
    BudgetView? Budget,
    IReadOnlyList<string> Managers,
    TextsView? Texts = null,
    [property: Description("`null` when off.")] RiskRemindersView? RiskReminders = null);

public sealed record RiskRemindersView(int MinNoShows, int LookbackDays, IReadOnlyList<ReminderStepView> Add, int HoldoutPercent);

public sealed record BudgetView(int? MonthlySegments, int? MonthlyCallMinutes);

public sealed record ReminderStepView(string Channel, string Before, bool OnlyIfUnconfirmed);

public sealed record QuietHoursView(string From, string To);

public sealed record WebhookView(string Url);

public sealed record RdvSolidaritesView(bool SecretSet, RdvSolidaritesApiView? Api = null);

/// <param name="Preview">
/// Each template the tenant wrote, and the built-in texts of its default language, filled with a
/// long realistic example (a 32-character service, a 65-character place name and a 109-character
/// address), with the segments it takes and its encoding: what a citizen would be sent.
/// </param>
public sealed record TextsView(
    string DefaultLanguage,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> Templates,
    ExperimentView? Experiment,
    IReadOnlyList<TextPreviewView> Preview);

public sealed record ExperimentView(
    string Name,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> Variants);

/// <param name="Source">"built-in", "tenant" or "variant".</param>
public sealed record TextPreviewView(string Language, string Kind, string? Variant, string Source, string Text, int Segments, string Encoding);
