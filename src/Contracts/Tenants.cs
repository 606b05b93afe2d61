namespace RappelRdv.Contracts;

/// <summary>Body of <c>POST /v1/admin/tenants</c> and <c>PUT /v1/admin/tenants/{slug}</c>.</summary>
public sealed record TenantRequest(
    string? Slug,
    string? Name,
    string? TimeZone = null,
    IReadOnlyList<ReminderStepRequest>? Reminders = null,
    QuietHoursRequest? QuietHours = null,
    bool? NotifyOnCreate = null,
    bool? NotifyOnChange = null,
    bool? NotifyOnCancel = null,
    int? HoldoutPercent = null,
    int? RetentionDays = null,
    WebhookRequest? Webhook = null,
    RdvSolidaritesRequest? RdvSolidarites = null,
    TextsRequest? Texts = null);

public sealed record ReminderStepRequest(string? Channel, string? Before, bool? OnlyIfUnconfirmed = null);

public sealed record QuietHoursRequest(string? From, string? To);

public sealed record WebhookRequest(string? Url);

public sealed record RdvSolidaritesRequest(string? Secret);

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
    string? Name,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string?>?>?>? Variants);

/// <summary>Answer to a tenant creation or key rotation: the only time keys are shown.</summary>
public sealed record TenantKeys(string Slug, string ApiKey, string ManagerKey, string WebhookSecret);

/// <summary>A tenant's settings as <c>GET /v1/admin/tenants/{slug}</c> returns them: no secrets.</summary>
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
    TextsView? Texts = null);

public sealed record ReminderStepView(string Channel, string Before, bool OnlyIfUnconfirmed);

public sealed record QuietHoursView(string From, string To);

public sealed record WebhookView(string Url);

public sealed record RdvSolidaritesView(bool SecretSet);

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
