using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// One Twilio account, many Workers (contract §9.8): <c>Twilio__MaxRequestsPerSecond</c> is the
/// account's rate, not each Worker's. Two Workers' dispatch loops over one database send a burst at
/// that rate, not twice it, and both take part. Counted at the fake Twilio over a window of a few
/// seconds, with wide margins: the test asserts "the cap, not twice the cap", not a stopwatch figure.
/// </summary>
public sealed class AccountRateTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private const int Rate = 20;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Two_Workers_with_one_account_rate_send_at_that_rate_not_twice_it()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        // More than the window can carry at twice the rate: work stays due for both the whole time.
        for (var i = 0; i < 240; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 {i / 100:D2} {i % 100:D2}");
        }

        var workers = new[] { "+33700000001", "+33700000002" }
            .Select(from => harness.BuildServices(new()
            {
                ["Twilio:MaxRequestsPerSecond"] = Rate.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Twilio:FromNumber"] = from,
            }).GetRequiredService<DispatchLoop>())
            .ToList();
        using var stopping = new CancellationTokenSource();
        var loops = workers.Select(loop => loop.RunAsync(DateTime.MaxValue, stopping.Token)).ToList();

        // Past the start (the bucket's first burst), then a window of about 4 s.
        await harness.Twilio.WaitForRequestsAsync(Rate);
        var before = harness.Twilio.Messages.Count;
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(4));
        var sent = harness.Twilio.Messages.Count - before;
        var seconds = window.Elapsed.TotalSeconds;
        await stopping.CancelAsync();
        await Task.WhenAll(loops);

        var rate = sent / seconds;
        // Twice the rate would be 40/s: well above the upper bound. The lower one leaves room for a loaded machine.
        Assert.InRange(rate, Rate * 0.5, Rate * 1.3);
        var byWorker = harness.Twilio.Messages.GroupBy(m => m["From"]).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(byWorker.Count == 2 && byWorker.Values.All(n => n >= 10), $"both Workers send: {string.Join(", ", byWorker)}");
        // Nothing twice, and what a stopped loop had claimed but not started went back.
        Assert.Equal(harness.Twilio.Messages.Count, harness.Twilio.Messages.Select(m => m["To"]).Distinct().Count());
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from messages where status = 'sending'"));
    }

    /// <summary>
    /// Calls have their own account rate (<c>Twilio__MaxCallsPerSecond</c>, 1 by default). A stopping
    /// Worker gives up its calls' wait for that rate and gives the calls back at once: at one a second,
    /// the calls of a group waiting their turn would otherwise hold the stop past the host's 30 s (seen in
    /// <c>bench/faults.sh calls-sigterm</c>: the Worker aborted, its claims left to recovery).
    /// </summary>
    [Fact]
    public async Task A_stopping_Worker_does_not_wait_for_the_call_rate()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        // Landlines: every message is a call.
        for (var i = 0; i < 30; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"call-{i}", $"04 94 12 34 {i:D2}");
        }

        var loop = harness.BuildServices(new() { ["Twilio:MaxCallsPerSecond"] = "1" }).GetRequiredService<DispatchLoop>();
        using var stopping = new CancellationTokenSource();
        var run = loop.RunAsync(DateTime.MaxValue, stopping.Token);
        await harness.Twilio.WaitForRequestsAsync(1);
        await stopping.CancelAsync();

        // The dozens of calls claimed behind the first would take as many seconds at the call rate.
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(harness.Twilio.Calls.Count, 1, 5);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from messages where status = 'sending'"));
        Assert.Equal(harness.Twilio.Calls.Count, await harness.ScalarAsync<long>("select count(*) from messages where status = 'sent'"));
    }

    /// <summary>
    /// Calls are claimed only while fewer than 5 s of the call rate wait for it, in all Workers
    /// (<c>Twilio__MaxCallsPerSecond</c> × <see cref="Dispatcher.CallHorizon"/>: 5 calls here). They used
    /// to be claimed like SMS, by the loop's free slots: 30 landline calls were all claimed at once, to
    /// wait up to 30 s for their turn holding their slots and their appointments' locks. Claims of 4 rows
    /// at a time, so that the claim must pass over the waiting calls to reach the SMS due after them.
    /// </summary>
    [Fact]
    public async Task Calls_are_claimed_by_what_the_call_rate_starts_soon_and_the_SMS_behind_them_still_go()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        for (var i = 0; i < 30; i++)
        {
            // Landlines: SMS reminders that go as calls.
            await harness.DueNowAsync(tenantId, settings, $"call-{i}", $"04 94 12 34 {i:D2}");
        }

        for (var i = 0; i < 10; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"sms-{i}", $"06 12 34 56 {i:D2}");
        }

        var loop = harness.BuildServices(new() { ["Twilio:MaxCallsPerSecond"] = "1", ["Dispatch:BatchSize"] = "4" }).GetRequiredService<DispatchLoop>();
        using var stopping = new CancellationTokenSource();
        var run = loop.RunAsync(DateTime.MaxValue, stopping.Token);
        const string CallsWaiting =
            """
            select count(*) from messages m
            where m.status = 'sending' and m.channel = 'voice'
              and not exists (select 1 from message_sends s where s.message_id = m.id and s.claim_token = m.claim_token)
            """;
        var mostWaiting = 0L;
        var callsWhenSmsWent = -1;
        var watch = Stopwatch.StartNew();
        // Until the SMS are gone and more calls than the room went (the room is taken again as calls leave).
        while ((harness.Twilio.Messages.Count < 10 || harness.Twilio.Calls.Count < 7) && watch.Elapsed < TimeSpan.FromSeconds(40))
        {
            mostWaiting = Math.Max(mostWaiting, await harness.ScalarAsync<long>(CallsWaiting));
            if (callsWhenSmsWent < 0 && harness.Twilio.Messages.Count == 10)
            {
                callsWhenSmsWent = harness.Twilio.Calls.Count;
            }

            // The loop's idle wait, between claims that found nothing it may take, is on the harness's clock.
            harness.Clock.Advance(TimeSpan.FromMilliseconds(100));
            await Task.Delay(50);
        }

        await stopping.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(20));

        // Every SMS went while the calls were still going out one a second, and the calls kept going.
        Assert.Equal(10, harness.Twilio.Messages.Count);
        Assert.InRange(callsWhenSmsWent, 0, 20);
        Assert.True(harness.Twilio.Calls.Count >= 7, $"{harness.Twilio.Calls.Count} calls in {watch.Elapsed.TotalSeconds:0} s");
        Assert.InRange(mostWaiting, 1, 5);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from messages where status = 'sending'"));
    }
}
