using System.Text.Json;
using System.Text.Json.Serialization;
using RappelRdv.Reminders.RdvSolidarites;

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
    IReadOnlyList<string>? Managers = null,
    TenantTexts? Texts = null,
    // rdvSolidarites.api: writing the citizens' answers back (CONTRACT §10), its secrets protected.
    RdvSolidaritesApi? RdvSolidaritesApi = null)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    [JsonIgnore]
    public TimeZoneInfo Zone => TimeZoneInfo.FindSystemTimeZoneById(TimeZone);

    /// <summary>An extra reminder for citizens who missed before (CONTRACT §11); null: off.</summary>
    public RiskReminders? RiskReminders { get; init; }

    /// <summary>
    /// The tenant's secret for the HMAC that keys a citizen's no-show history (<c>tenants.history_key</c>,
    /// see <see cref="TenantSecrets.CitizenKey"/>). Never part of the stored settings nor shown: set by
    /// whoever reads the tenant's row; null where the settings were built without it.
    /// </summary>
    [JsonIgnore]
    public byte[]? HistoryKey { get; init; }

    /// <summary>Whether this e-mail (as the identity provider gives it) is in the tenant's <c>managers</c> list.</summary>
    public bool IsManager(string email) =>
        Managers is { } managers && managers.Contains(email.Trim().ToLowerInvariant(), StringComparer.Ordinal);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TenantSettings FromJson(string json) =>
        JsonSerializer.Deserialize<TenantSettings>(json, Json) ?? throw new InvalidOperationException("Empty tenant settings");
}

/// <summary>
/// The tenant's own words (CONTRACT §9.4): the language of citizens whose agenda names none, SMS
/// templates per language and kind, and a wording trial. Null: French, the built-in texts.
/// </summary>
public sealed record TenantTexts(
    string DefaultLanguage,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? Templates,
    TextExperiment? Experiment)
{
    /// <summary>
    /// The templates of one language for an appointment of <paramref name="variant"/>: the
    /// variant's own, over the tenant's (an empty variant is the tenant's templates). A kind in
    /// neither falls back to the built-in text.
    /// </summary>
    public IReadOnlyDictionary<string, string>? TemplatesFor(string language, string? variant)
    {
        var tenant = Templates?.GetValueOrDefault(language);
        var own = variant is null ? null : Experiment?.Variants.GetValueOrDefault(variant)?.GetValueOrDefault(language);
        if (own is null or { Count: 0 })
        {
            return tenant;
        }

        var merged = new Dictionary<string, string>(tenant ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (kind, template) in own)
        {
            merged[kind] = template;
        }

        return merged;
    }
}

/// <summary>A wording trial: each new appointment is drawn into one of the named variants, equally.</summary>
public sealed record TextExperiment(
    string Name,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>> Variants)
{
    /// <summary>
    /// One variant, each with the same chance. Names are drawn in ordinal order, so that a given
    /// random sequence always gives the same draws whatever the order the JSON listed them in.
    /// </summary>
    public string Draw(Random random)
    {
        var names = Variants.Keys.Order(StringComparer.Ordinal).ToArray();
        return names[random.Next(names.Length)];
    }
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

/// <summary>
/// The rule of CONTRACT §11: a new appointment of a citizen with at least <paramref name="MinNoShows"/>
/// no-shows among the appointments that started in the last <paramref name="LookbackDays"/> is at risk;
/// it is drawn <c>held_out</c> for <paramref name="HoldoutPercent"/> of them, else <c>targeted</c>, and a
/// targeted one gets the <paramref name="Add"/> reminders on top of the tenant's plan.
/// </summary>
public sealed record RiskReminders(int MinNoShows, int LookbackDays, IReadOnlyList<ReminderStep> Add, int HoldoutPercent);
