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
    RdvSolidaritesRequest? RdvSolidarites = null);

public sealed record ReminderStepRequest(string? Channel, string? Before, bool? OnlyIfUnconfirmed = null);

public sealed record QuietHoursRequest(string? From, string? To);

public sealed record WebhookRequest(string? Url);

public sealed record RdvSolidaritesRequest(string? Secret);

/// <summary>Answer to a tenant creation or key rotation: the only time keys are shown.</summary>
public sealed record TenantKeys(string Slug, string ApiKey, string ManagerKey, string WebhookSecret);

/// <summary><c>POST /v1/admin/tenants/{slug}/keys</c>: which keys to replace (<c>apiKey</c>, <c>managerKey</c>, <c>webhookSecret</c>); no body: all three.</summary>
public sealed record KeyRotationRequest(IReadOnlyList<string>? Rotate);

/// <summary>The keys a rotation made, and only those: a key that was not rotated is absent.</summary>
public sealed record RotatedKeys(
    string Slug,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ApiKey,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ManagerKey,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? WebhookSecret);

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
    RdvSolidaritesView? RdvSolidarites);

public sealed record ReminderStepView(string Channel, string Before, bool OnlyIfUnconfirmed);

public sealed record QuietHoursView(string From, string To);

public sealed record WebhookView(string Url);

public sealed record RdvSolidaritesView(bool SecretSet);
