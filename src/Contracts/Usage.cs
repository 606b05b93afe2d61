namespace RappelRdv.Contracts;

/// <summary><c>GET /v1/usage?month=YYYY-MM</c>: what one tenant used in a (UTC) month.</summary>
public sealed record UsageReport(
    string Month,
    SmsUsage Sms,
    VoiceUsage Voice,
    BudgetUsage Budget,
    IReadOnlyList<KindUsage> ByKind,
    UsageAmount? Amount);

public sealed record SmsUsage(long Messages, long Segments);

/// <summary>Answered calls, and their minutes as Twilio bills them: each call rounded up to the minute.</summary>
public sealed record VoiceUsage(long Calls, long Minutes);

/// <summary>The caps and how much of each is used, in percent (one decimal); <c>null</c> without a cap.</summary>
public sealed record BudgetUsage(int? MonthlySegments, double? UsedPercent, int? MonthlyCallMinutes = null, double? CallMinutesUsedPercent = null);

/// <summary>The same figures for one kind of message (<c>reminder</c>, <c>confirmation</c>, <c>change</c>, <c>cancellation</c>).</summary>
public sealed record KindUsage(string Kind, SmsUsage Sms, VoiceUsage Voice);

/// <summary>The usage at the operator's configured prices (<c>Billing__*</c>, the same for every tenant); absent without prices.</summary>
public sealed record UsageAmount(string Currency, decimal Sms, decimal Voice, decimal Total);

/// <summary><c>GET /v1/admin/usage?month=YYYY-MM</c>: one row per tenant, and the Twilio account.</summary>
public sealed record AdminUsageReport(string Month, IReadOnlyList<TenantUsage> Tenants, TwilioAccountView Account);

public sealed record TenantUsage(string Tenant, string Name, SmsUsage Sms, VoiceUsage Voice, BudgetUsage Budget, UsageAmount? Amount);

/// <summary>
/// The Twilio account as the Worker last read it. <c>BelowFloor</c> is true under
/// <c>Billing__BalanceFloor</c>; <c>SendingPausedUntil</c> is set while Twilio refuses sends for the account.
/// </summary>
public sealed record TwilioAccountView(
    decimal? Balance, string? Currency, DateTimeOffset? CheckedAt, decimal? BalanceFloor, bool BelowFloor,
    DateTimeOffset? SendingPausedUntil, string? PauseReason);

/// <summary>What is POSTed to a tenant's webhook when its budget reaches 80 % or 100 %.</summary>
public sealed record BudgetEvent(string Type, DateTimeOffset Timestamp, BudgetEventData Data);

/// <summary><c>Measure</c> is <c>segments</c> or <c>minutes</c>.</summary>
public sealed record BudgetEventData(string Month, string Measure, long Used, int Limit, double UsedPercent);

public static class BudgetEventTypes
{
    public const string ThresholdReached = "budget.threshold_reached";
    public const string Exhausted = "budget.exhausted";
}
