using Dapper;
using Npgsql;
using Prometheus;
using RappelRdv.Api.Metrics;

namespace RappelRdv.Api.Usage;

/// <summary>
/// The Twilio account in /metrics, from what the Worker last stored: <c>rappel_twilio_balance</c>
/// (absent until a balance was read, that is without a real account), when it was read, and
/// whether sending is paused. One row read per scrape.
/// </summary>
internal sealed class BalanceMetrics
{
    private readonly NpgsqlDataSource db;
    private readonly TimeProvider clock;
    private readonly Gauge balance;
    private readonly Gauge checkedAt;
    private readonly Gauge paused;

    public BalanceMetrics(RappelMetrics metrics, NpgsqlDataSource db, TimeProvider clock)
    {
        this.db = db;
        this.clock = clock;
        var factory = Prometheus.Metrics.WithCustomRegistry(metrics.Registry);
        balance = factory.CreateGauge("rappel_twilio_balance",
            "The Twilio account's balance as the Worker last read it (Balance.json, every few minutes), in its currency.", "currency");
        checkedAt = factory.CreateGauge("rappel_twilio_balance_checked_timestamp_seconds",
            "When the Worker last read the Twilio balance (Unix time); absent without a real account.");
        paused = factory.CreateGauge("rappel_sending_paused",
            "1 while all sending is paused because Twilio refused the account (20003, funds), else 0.");
        metrics.Registry.AddBeforeCollectCallback(RefreshAsync);
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            var row = await connection.QuerySingleOrDefaultAsync<AccountRow>(new CommandDefinition(
                "select balance, currency, checked_at, paused_until > @now as paused from twilio_account",
                new { now = clock.GetUtcNow() }, cancellationToken: cancellationToken));
            paused.Set(row?.Paused == true ? 1 : 0);
            if (row is { Balance: { } value, CheckedAt: { } at })
            {
                balance.WithLabels(row.Currency ?? "").Set((double)value);
                checkedAt.Set(new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)).ToUnixTimeMilliseconds() / 1000.0);
            }
        }
        catch (NpgsqlException)
        {
            // The previous values stay; RappelMetrics counts and logs the database's failures.
        }
    }

    private sealed record AccountRow(decimal? Balance, string? Currency, DateTime? CheckedAt, bool? Paused);
}

internal static class UsageSetup
{
    public static void AddUsage(this WebApplicationBuilder builder)
    {
        // BillingOptions: bound and validated once, by AddRappelCore.
        builder.Services.AddSingleton<UsageReader>();
        builder.Services.AddSingleton<BalanceMetrics>();
    }

    /// <summary>The endpoints, and the account's series on /metrics.</summary>
    public static void MapUsageAndBalance(this WebApplication app)
    {
        app.Services.GetRequiredService<BalanceMetrics>();
        app.MapUsage();
    }
}
