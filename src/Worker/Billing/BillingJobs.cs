using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Twilio;

namespace RappelRdv.Worker.Billing;

/// <summary>
/// The Worker's part of what sending costs: the Twilio balance read every
/// <c>Billing__BalanceIntervalMinutes</c> (a real account only), and the budgets' alerts for call
/// minutes, which are known only once a call ends. The dispatch tick runs both
/// (<see cref="Dispatch.Housekeeping"/>); both are safe to run twice and on several Workers at once.
/// </summary>
internal sealed class BillingJobs(
    NpgsqlDataSource db, IHttpClientFactory httpClients, IOptions<TwilioOptions> twilio, IOptions<BillingOptions> billing, TimeProvider clock,
    ILogger<BillingJobs> logger)
{
    /// <summary>
    /// Reads the balance when the last reading is older than <c>Billing__BalanceIntervalMinutes</c>;
    /// returns it, or null when not due or not read. The last reading is the shared "last run": with
    /// any number of Workers and ticks, one reading per interval. Half a minute of slack, since the
    /// ticks come each minute and a reading is stored a moment into its tick: without it a 5-minute
    /// interval would read every 6 minutes. A reading that failed stores nothing, so the next tick tries again.
    /// </summary>
    public async Task<decimal?> ReadBalanceIfDueAsync(CancellationToken cancellationToken)
    {
        if (twilio.Value.IsSimulated)
        {
            return null;
        }

        DateTime? checkedAt;
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            checkedAt = await connection.ExecuteScalarAsync<DateTime?>("select checked_at from twilio_account");
        }

        var dueAfter = TimeSpan.FromMinutes(billing.Value.BalanceIntervalMinutes) - TimeSpan.FromSeconds(30);
        if (checkedAt is { } last && clock.GetUtcNow() - new DateTimeOffset(DateTime.SpecifyKind(last, DateTimeKind.Utc)) < dueAfter)
        {
            return null;
        }

        return await ReadBalanceAsync(cancellationToken);
    }

    /// <summary>
    /// <c>GET /2010-04-01/Accounts/{sid}/Balance.json</c>, stored in <c>twilio_account</c>. Under
    /// <c>Billing__BalanceFloor</c>, a warning; a positive balance ends a pause of sending. Returns
    /// the balance read, or null (no account, or Twilio did not answer: the last one stays).
    /// </summary>
    public async Task<decimal?> ReadBalanceAsync(CancellationToken cancellationToken)
    {
        var account = twilio.Value;
        if (account.IsSimulated)
        {
            return null;
        }

        // api.twilio.com: TwilioHostRewriter sends it to Twilio__ApiBaseUrl, like every other Twilio request.
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"https://api.twilio.com/2010-04-01/Accounts/{Uri.EscapeDataString(account.AccountSid!)}/Balance.json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{account.AccountSid}:{account.AuthToken}")));
        decimal balance;
        string? currency;
        try
        {
            using var response = await httpClients.CreateClient(TwilioProvider.HttpClientName).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                logger.LogWarning("Reading the Twilio balance failed: HTTP {Status}", (int)response.StatusCode);
                return null;
            }

            using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync(cancellationToken));
            var root = json.RootElement;
            // Twilio gives the balance as a string ("12.34"); accept a number too.
            var value = root.GetProperty("balance");
            balance = value.ValueKind == JsonValueKind.Number
                ? value.GetDecimal()
                : decimal.Parse(value.GetString()!, NumberStyles.Number, CultureInfo.InvariantCulture);
            currency = root.TryGetProperty("currency", out var c) ? c.GetString() : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or FormatException or KeyNotFoundException
                                      or InvalidOperationException)
        {
            logger.LogWarning("Reading the Twilio balance failed: {Reason}", e.GetType().Name);
            return null;
        }

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(
            """
            insert into twilio_account (id, balance, currency, checked_at) values (true, @balance, @currency, @now)
            on conflict (id) do update set balance = @balance, currency = @currency, checked_at = @now
            """,
            new { balance, currency, now });
        if (billing.Value.BalanceFloor is { } floor && balance < floor)
        {
            logger.LogWarning("The Twilio balance is {Balance} {Currency}, under the floor of {Floor}: credit the account before sending stops",
                balance, currency, floor);
        }

        if (balance > 0 && await SendingPause.ResumeAsync(connection, now))
        {
            logger.LogWarning("The Twilio balance is {Balance} {Currency} again: sending resumes", balance, currency);
        }

        return balance;
    }

    public Task<int> WatchBudgetsAsync(CancellationToken cancellationToken) =>
        BudgetRules.WatchAsync(db, clock.GetUtcNow(), logger, cancellationToken);
}

internal static class BillingSetup
{
    public static IServiceCollection AddBilling(this IServiceCollection services)
    {
        // BillingOptions: bound and validated once, by AddRappelCore.
        services.AddTransient<BillingJobs>();
        return services;
    }
}
