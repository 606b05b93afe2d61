using System.Text.Json;
using System.Text.Json.Serialization;

namespace RappelRdv.Reminders.Tenants;

/// <summary>A tenant's settings, as stored in <c>tenants.settings</c>.</summary>
public sealed record TenantSettings(
    string TimeZone,
    IReadOnlyList<ReminderStep> Reminders,
    QuietHours? QuietHours,
    bool NotifyOnCreate,
    bool NotifyOnChange,
    bool NotifyOnCancel,
    int HoldoutPercent,
    int RetentionDays,
    string? WebhookUrl,
    string? RdvSolidaritesSecret,
    Budget? Budget = null,
    IReadOnlyList<string>? Managers = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    [JsonIgnore]
    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    /// <summary>Whether this e-mail (as the identity provider gives it) is in the tenant's <c>managers</c> list.</summary>
    public bool IsManager(string email) =>
        Managers is { } managers && managers.Contains(email.Trim().ToLowerInvariant(), StringComparer.Ordinal);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TenantSettings FromJson(string json) =>
        JsonSerializer.Deserialize<TenantSettings>(json, Json) ?? throw new InvalidOperationException("Empty tenant settings");
}

/// <summary>One step of the reminder plan: <paramref name="Before"/> is an ISO 8601 duration.</summary>
public sealed record ReminderStep(string Channel, string Before, bool OnlyIfUnconfirmed)
{
    [JsonIgnore]
    public TimeSpan Offset => IsoDuration.TryParse(Before, out var value) ? value : TimeSpan.Zero;
}

/// <summary>Local hours in which nothing is sent; <c>From</c> after <c>To</c> spans midnight.</summary>
public sealed record QuietHours(TimeOnly From, TimeOnly To)
{
    public bool Contains(TimeOnly time) =>
        From <= To ? time >= From && time < To : time >= From || time < To;
}

/// <summary>A tenant's monthly caps; <c>null</c> is no cap (see Budgets/BudgetRules.cs).</summary>
public sealed record Budget(int? MonthlySegments, int? MonthlyCallMinutes);
