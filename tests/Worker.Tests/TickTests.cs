using Dapper;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// The minute's tick: it does what used to be recurring jobs of their own —
/// the Twilio balance every Billing__BalanceIntervalMinutes, the budgets' watch, the erasure at
/// Twilio with its backoff — each at its pace, on the fake clock, one failure never stopping the rest.
/// </summary>
public sealed class TickTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private const string Accounts = $"/2010-04-01/Accounts/{FakeTwilio.AccountSid}";

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private int BalanceReads => harness.Twilio.Server.LogEntries.Count(e => e.RequestMessage.Path.EndsWith("/Balance.json", StringComparison.Ordinal));

    private static async Task TickAsync(IServiceProvider services) =>
        await services.GetRequiredService<DispatchJobs>().Tick();

    [Fact]
    public async Task The_balance_is_read_at_the_first_tick_then_once_per_interval_not_every_minute()
    {
        var services = harness.BuildServices(new() { ["Billing:BalanceIntervalMinutes"] = "5" });
        harness.Twilio.Balance = 42m;

        await TickAsync(services);
        Assert.Equal(1, BalanceReads);
        Assert.Equal(42m, await harness.ScalarAsync<decimal>("select balance from twilio_account"));

        // The ticks of the next four minutes (a second or two into each, as Hangfire runs them) read nothing.
        for (var minute = 1; minute <= 4; minute++)
        {
            harness.Clock.Advance(TimeSpan.FromMinutes(1));
            await TickAsync(services);
        }

        Assert.Equal(1, BalanceReads);
        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        await TickAsync(services);
        Assert.Equal(2, BalanceReads);
        // Sending is each Worker's own loop (DispatchLoop), no longer slices handed out by the tick.
        Assert.DoesNotContain(nameof(DispatchJobs.RunSlice), ((EnqueuedJobs)services.GetRequiredService<IBackgroundJobClient>()).MethodNames);
    }

    [Fact]
    public async Task Call_minutes_over_a_budget_are_alerted_once_however_many_ticks_see_them()
    {
        var (tenantId, _) = await harness.TenantAsync(
            TestData.Settings(webhookUrl: "https://agenda.example.org/events") with { Budget = new(MonthlySegments: null, MonthlyCallMinutes: 2) });
        var services = harness.BuildServices();
        await TickAsync(services);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from events"));

        // Three minutes of calls end (what the status callbacks add up).
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "insert into usage_counters (tenant_id, month, channel, kind, shard, calls, call_seconds, minutes) values (@tenantId, '2026-12-01', 'voice', 'reminder', 0, 2, 170, 3)",
                new { tenantId });
        }

        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        await TickAsync(services);
        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        await TickAsync(services);

        Assert.Equal(["budget.exhausted", "budget.threshold_reached"],
            (await QueryAsync<string>("select type from events where tenant_id = @tenantId order by type", new { tenantId })));
        Assert.Equal(2, await harness.ScalarAsync<long>("select count(*) from budget_alerts"));
    }

    [Fact]
    public async Task An_erasure_reaches_Twilio_at_the_next_tick_and_a_failure_is_tried_again_after_its_backoff_not_every_minute()
    {
        const string Sms = "SM00000000000000000000000000000001";
        var attempts = 0;
        harness.Twilio.Server.Given(Request.Create().WithPath($"{Accounts}/Messages/{Sms}.json").UsingDelete())
            .RespondWith(Response.Create().WithCallback(_ => new WireMock.ResponseMessage { StatusCode = Interlocked.Increment(ref attempts) == 1 ? 503 : 204 }));
        var services = harness.BuildServices();
        await ListForDeletionAsync(Sms);

        await TickAsync(services);
        Assert.Equal(1, attempts);
        Assert.Contains("503", await harness.ScalarAsync<string>("select last_error from twilio_deletions"), StringComparison.Ordinal);

        // Its backoff is 5 minutes: the ticks meanwhile leave it alone.
        for (var minute = 1; minute < 5; minute++)
        {
            harness.Clock.Advance(TimeSpan.FromMinutes(1));
            await TickAsync(services);
        }

        Assert.Equal(1, attempts);
        harness.Clock.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1));
        await TickAsync(services);

        Assert.Equal(2, attempts);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from twilio_deletions where done_at is null"));
    }

    [Fact]
    public async Task A_failing_chore_is_logged_and_the_other_chores_still_run()
    {
        const string Sms = "SM00000000000000000000000000000002";
        harness.Twilio.Server.Given(Request.Create().WithPath($"{Accounts}/Messages/{Sms}.json").UsingDelete()).RespondWith(Response.Create().WithStatusCode(204));
        var (tenantId, _) = await harness.TenantAsync(TestData.Settings() with { Budget = new(MonthlySegments: 100, MonthlyCallMinutes: null) });
        // A budget the watch cannot read: its query fails (a cast error), every tick.
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """update tenants set settings = jsonb_set(settings, '{budget,monthlySegments}', '"beaucoup"') where id = @tenantId""", new { tenantId });
        }

        await ListForDeletionAsync(Sms);
        var services = harness.BuildServices();

        await TickAsync(services);

        Assert.Equal(1, BalanceReads);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from twilio_deletions where done_at is null"));
    }

    private async Task ListForDeletionAsync(string sid)
    {
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "insert into twilio_deletions (sid, created_at, next_attempt_at) values (@sid, @now, @now)", new { sid, now = harness.Clock.GetUtcNow() });
    }

    private async Task<List<T>> QueryAsync<T>(string sql, object parameters)
    {
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<T>(sql, parameters)).AsList();
    }
}
