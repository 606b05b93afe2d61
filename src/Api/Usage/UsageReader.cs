using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Usage;

/// <summary>
/// A month's usage as the API, the CSV export and the dashboard show it, from the counters the
/// database keeps as messages are sent (a few dozen rows, whatever the month's volume).
/// </summary>
internal sealed class UsageReader(NpgsqlDataSource db, IOptions<BillingOptions> billing)
{
    /// <summary>One tenant's month with its budget: what the dashboard's "usage against budget" shows.</summary>
    public async Task<UsageReport> ForTenantAsync(long tenantId, DateOnly month, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var settings = await connection.ExecuteScalarAsync<string>(
            new CommandDefinition("select settings::text from tenants where id = @tenantId", new { tenantId }, cancellationToken: cancellationToken));
        var rows = await UsageCounters.ReadAsync(connection, month, tenantId, cancellationToken);
        return Report(month, rows, settings is null ? null : TenantSettings.FromJson(settings).Budget);
    }

    /// <summary>
    /// The same for a tenant already read with its settings (the dashboard's): its budget is taken from
    /// them rather than read and parsed again.
    /// </summary>
    public async Task<UsageReport> ForTenantAsync(Tenant tenant, DateOnly month, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await UsageCounters.ReadAsync(connection, month, tenant.Id, cancellationToken);
        return Report(month, rows, tenant.Settings.Budget);
    }

    /// <summary>Every tenant's month, by slug, with the Twilio account as the Worker last read it.</summary>
    public async Task<AdminUsageReport> ForAllAsync(DateOnly month, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var tenants = await connection.QueryAsync<TenantRow>(
            new CommandDefinition("select id, slug, name, settings::text as settings from tenants order by slug", cancellationToken: cancellationToken));
        var rows = (await UsageCounters.ReadAsync(connection, month, null, cancellationToken)).ToLookup(r => r.TenantId);
        var account = await connection.QuerySingleOrDefaultAsync<AccountRow>(new CommandDefinition(
            "select balance, currency, checked_at, paused_until, pause_reason from twilio_account",
            cancellationToken: cancellationToken));
        var usage = tenants.Select(t =>
        {
            var report = Report(month, [.. rows[t.Id]], TenantSettings.FromJson(t.Settings).Budget);
            return new TenantUsage(t.Slug, t.Name, report.Sms, report.Voice, report.Budget, report.Amount);
        }).ToList();
        return new AdminUsageReport(UsageCounters.Format(month), usage, Account(account, now));
    }

    private TwilioAccountView Account(AccountRow? row, DateTimeOffset now)
    {
        var floor = billing.Value.BalanceFloor;
        var pausedUntil = row?.PausedUntil?.AsUtc();
        var paused = pausedUntil > now;
        return new TwilioAccountView(
            row?.Balance, row?.Currency, row?.CheckedAt?.AsUtc(), floor, row?.Balance is { } balance && floor is { } f && balance < f,
            paused ? pausedUntil : null, paused ? row!.PauseReason : null);
    }

    private UsageReport Report(DateOnly month, IReadOnlyList<UsageRow> rows, Budget? budget)
    {
        var sms = new SmsUsage(rows.Where(r => r.Channel == "sms").Sum(r => r.Messages), rows.Where(r => r.Channel == "sms").Sum(r => r.Segments));
        var voice = new VoiceUsage(rows.Where(r => r.Channel != "sms").Sum(r => r.Calls), rows.Where(r => r.Channel != "sms").Sum(r => r.Minutes));
        var byKind = rows.GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new KindUsage(
            g.Key,
            new SmsUsage(g.Where(r => r.Channel == "sms").Sum(r => r.Messages), g.Where(r => r.Channel == "sms").Sum(r => r.Segments)),
            new VoiceUsage(g.Where(r => r.Channel != "sms").Sum(r => r.Calls), g.Where(r => r.Channel != "sms").Sum(r => r.Minutes)))).ToList();
        return new UsageReport(
            UsageCounters.Format(month), sms, voice,
            new BudgetUsage(budget?.MonthlySegments, Percent(sms.Segments, budget?.MonthlySegments),
                budget?.MonthlyCallMinutes, Percent(voice.Minutes, budget?.MonthlyCallMinutes)),
            byKind, Amount(sms, voice));
    }

    private static double? Percent(long used, int? limit) => limit is { } cap ? Math.Round(100.0 * used / cap, 1) : null;

    /// <summary>At the configured prices; a price not configured counts as nothing.</summary>
    private UsageAmount? Amount(SmsUsage sms, VoiceUsage voice)
    {
        var prices = billing.Value;
        if (!prices.HasPrices)
        {
            return null;
        }

        var smsAmount = Math.Round(sms.Segments * (prices.SmsSegmentPrice ?? 0), 2, MidpointRounding.AwayFromZero);
        var voiceAmount = Math.Round(voice.Minutes * (prices.CallMinutePrice ?? 0), 2, MidpointRounding.AwayFromZero);
        return new UsageAmount(prices.Currency, smsAmount, voiceAmount, smsAmount + voiceAmount);
    }

    private sealed record TenantRow(long Id, string Slug, string Name, string Settings);

    private sealed record AccountRow(decimal? Balance, string? Currency, DateTime? CheckedAt, DateTime? PausedUntil, string? PauseReason);
}
