using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.Api.Stats;
using RappelRdv.Api.Usage;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Logging;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Dashboard;

/// <summary>A message that could not be delivered, as the dashboard shows it: the phone masked, no name, no text.</summary>
public sealed record DeliveryFailure(DateTime FailedAtLocal, string Channel, string Kind, string MaskedPhone, string ExternalId,
    DateTime StartsAtLocal, string? Error);

/// <summary>A citizen's cancellation RDV-Solidarités could not be told of (CONTRACT §10): no personal data.</summary>
public sealed record WriteBackFailure(DateTime FailedAtLocal, string ExternalId, DateTime StartsAtLocal, string? Reason);

/// <summary>A tenant a person may open.</summary>
public sealed record ManagedTenant(long Id, string Slug, string Name);

/// <summary>Everything one view of the dashboard shows (public: the components take it as a parameter).</summary>
public sealed record DashboardView(
    Tenant Tenant, DateOnly From, DateOnly To, NoShowStats ByWeek, NoShowStats ByService, NoShowStats ByChannel,
    NoShowStats ByConfirmation, NoShowStats ByCohort, long UnknownPast, long FailureCount, IReadOnlyList<DeliveryFailure> Failures,
    // The wording trial's variants compared (null without two variants in the period).
    VariantComparison? Variants = null,
    // The month's usage against the budget (null only where a test builds a view without it).
    UsageSection? Usage = null,
    // By what the riskReminders rule drew: targeted, held_out, none (null only where a test builds a view without it).
    NoShowStats? ByRisk = null,
    // Write-backs to RDV-Solidarités that failed in the last 30 days (empty for a tenant without them).
    IReadOnlyList<WriteBackFailure>? WriteBackFailures = null);

/// <summary>
/// One UTC month's usage against the tenant's budget, as <c>GET /v1/usage</c> reports it, with the
/// prices it was counted at and the sending pause of the Twilio account, if one holds now.
/// </summary>
public sealed record UsageSection(
    DateOnly Month, DateOnly CurrentMonth, UsageReport Report, decimal? SmsSegmentPrice, decimal? CallMinutePrice,
    DateTime? SendingPausedUntilLocal)
{
    /// <summary>Why the month asked for is not the one shown (a French sentence), or null.</summary>
    public string? Problem { get; init; }

    /// <summary>Whether the page shows a period chosen with its form: the month form carries it along.</summary>
    public bool PeriodChosen { get; init; }

    public bool IsCurrent => Month == CurrentMonth;

    /// <summary>The <c>mois</c> the period form carries along: none for the current month, the default.</summary>
    public string? MonthParameter => IsCurrent ? null : UsageCounters.Format(Month);
}

internal sealed class DashboardData(
    NpgsqlDataSource db, NoShowStatistics statistics, StatsReader reader, UsageReader usage, IOptions<BillingOptions> billing, TimeProvider clock)
{
    public static readonly TimeSpan FailuresWindow = TimeSpan.FromDays(30);

    private const int FailuresShown = 50;

    /// <summary>The period shown without a choice: 13 weeks, this one (up to today) and the 12 before.</summary>
    public NoShowQuery DefaultPeriod(TimeZoneInfo zone, string by = "week")
    {
        var today = Today(zone);
        var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
        return new NoShowQuery(monday.AddDays(-12 * 7), today, by);
    }

    public DateOnly Today(TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), zone).DateTime);

    /// <summary>
    /// The month the budget counts now. A UTC month, not the tenant's: usage is counted and the
    /// budget enforced by UTC month (as Twilio bills), so a local month would show, for the first
    /// hours of the 1st, a month that the send gate does not count yet.
    /// </summary>
    public DateOnly CurrentMonth() => UsageCounters.MonthOf(clock.GetUtcNow());

    public async Task<DashboardView> LoadAsync(Tenant tenant, NoShowQuery period, DateOnly month, CancellationToken cancellationToken)
    {
        Task<NoShowStats> By(string by) => statistics.ComputeAsync(tenant.Id, period with { By = by }, cancellationToken);

        var (failureCount, failures) = await FailuresAsync(tenant, cancellationToken);
        return new DashboardView(
            tenant, period.From, period.To,
            await By("week"), await By("service"), await By("channel"), await By("confirmation"), await By("cohort"),
            await UnknownPastAsync(tenant, period, cancellationToken), failureCount, failures,
            VariantComparison.From(await By("variant")),
            await UsageAsync(tenant, month, cancellationToken),
            await By("risk"),
            await WriteBackFailuresAsync(tenant, cancellationToken));
    }

    private async Task<IReadOnlyList<WriteBackFailure>> WriteBackFailuresAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(DateTime FailedAt, string ExternalId, DateTime StartsAt, string? Reason)>(new CommandDefinition(
            """
            select w.updated_at, a.external_id, a.starts_at, w.reason
            from rdvs_writebacks w join appointments a on a.id = w.appointment_id
            where w.tenant_id = @tenantId and w.status = 'failed' and w.updated_at >= @since
            order by w.updated_at desc
            limit @FailuresShown
            """,
            new { tenantId = tenant.Id, since = clock.GetUtcNow() - FailuresWindow, FailuresShown }, cancellationToken: cancellationToken));
        var zone = tenant.Settings.Zone;
        return [.. rows.Select(r => new WriteBackFailure(TimeZoneInfo.ConvertTime(r.FailedAt.AsUtc(), zone).DateTime, r.ExternalId,
            TimeZoneInfo.ConvertTime(r.StartsAt.AsUtc(), zone).DateTime, r.Reason))];
    }

    private async Task<UsageSection> UsageAsync(Tenant tenant, DateOnly month, CancellationToken cancellationToken)
    {
        var report = await usage.ForTenantAsync(tenant, month, cancellationToken);
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var pausedUntil = await SendingPause.PausedUntilAsync(connection, null, now);
        var prices = billing.Value;
        return new UsageSection(month, CurrentMonth(), report, prices.SmsSegmentPrice, prices.CallMinutePrice,
            pausedUntil is { } until ? TimeZoneInfo.ConvertTime(until.AsUtc(), tenant.Settings.Zone).DateTime : null);
    }

    /// <summary>Appointments of the period that have started and have neither an outcome nor a cancellation.</summary>
    private async Task<long> UnknownPastAsync(Tenant tenant, NoShowQuery period, CancellationToken cancellationToken)
    {
        var zone = tenant.Settings.Zone;
        var today = Today(zone);
        long unknown = 0;
        var lastFullDay = period.To < today ? period.To : today.AddDays(-1);
        if (period.From <= lastFullDay)
        {
            unknown += (await reader.ByDayAsync(tenant.Id, period.From, lastFullDay, cancellationToken)).Sum(d => d.Tally.Unknown);
        }

        if (period.From <= today && today <= period.To)
        {
            // Today: only the appointments that have already started.
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            unknown += await connection.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                select count(*) from appointments
                where tenant_id = @tenantId and starts_at >= (@today::date::timestamp at time zone @zone) and starts_at < @now
                  and outcome is null and status not in ('cancelled_by_citizen', 'cancelled_by_service')
                """,
                new { tenantId = tenant.Id, today = today.ToDateTime(TimeOnly.MinValue), zone = tenant.Settings.TimeZone, now = clock.GetUtcNow() },
                cancellationToken: cancellationToken));
        }

        return unknown;
    }

    private async Task<(long Count, IReadOnlyList<DeliveryFailure> Shown)> FailuresAsync(Tenant tenant, CancellationToken cancellationToken)
    {
        var since = clock.GetUtcNow() - FailuresWindow;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var count = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "select count(*) from messages where tenant_id = @tenantId and status = 'failed' and updated_at >= @since",
            new { tenantId = tenant.Id, since }, cancellationToken: cancellationToken));
        var rows = await connection.QueryAsync<FailureRow>(new CommandDefinition(
            """
            select m.updated_at as failed_at, m.channel, m.kind, m.error, a.phone, a.external_id, a.starts_at
            from messages m join appointments a on a.id = m.appointment_id
            where m.tenant_id = @tenantId and m.status = 'failed' and m.updated_at >= @since
            order by m.updated_at desc
            limit @FailuresShown
            """,
            new { tenantId = tenant.Id, since, FailuresShown }, cancellationToken: cancellationToken));
        var zone = tenant.Settings.Zone;
        return (count, [.. rows.Select(r => new DeliveryFailure(
            TimeZoneInfo.ConvertTime(r.FailedAt.AsUtc(), zone).DateTime, r.Channel, r.Kind,
            r.Phone is null ? "" : FrenchPhone.Mask(r.Phone), r.ExternalId,
            TimeZoneInfo.ConvertTime(r.StartsAt.AsUtc(), zone).DateTime,
            // Twilio's error texts may quote the number.
            r.Error is null ? null : PhoneMaskingEnricher.MaskText(r.Error)))]);
    }

    /// <summary>The tenants whose <c>managers</c> list holds this e-mail, by name: a person who manages several chooses one.</summary>
    public async Task<IReadOnlyList<ManagedTenant>> ManagedByAsync(string email, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return [.. await connection.QueryAsync<ManagedTenant>(new CommandDefinition(
            "select id, slug, name from tenants where settings->'managers' @> jsonb_build_array(@email::text) order by name, slug",
            new { email }, cancellationToken: cancellationToken))];
    }

    private sealed class FailureRow
    {
        public DateTime FailedAt { get; set; }
        public string Channel { get; set; } = "";
        public string Kind { get; set; } = "";
        public string? Error { get; set; }
        public string? Phone { get; set; }
        public string ExternalId { get; set; } = "";
        public DateTime StartsAt { get; set; }
    }
}
