using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;
using RappelRdv.Worker.Events;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// Events are delivered by a loop of their own, with one deadline per attempt, and one tenant's slow
/// endpoint holds only its share of the senders (contract §9.7). The stalling endpoint is a real
/// socket; the deadline runs on the fake clock, so the test moves time on only once it has seen what
/// must hold while the endpoint stalls.
/// </summary>
public sealed class EventIsolationTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> TenantWithWebhookAsync(string url) => (await harness.TenantAsync(TestData.Settings(webhookUrl: url))).TenantId;

    private async Task<List<Guid>> EventsAsync(long tenantId, int count)
    {
        var ids = new List<Guid>();
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        for (var i = 0; i < count; i++)
        {
            var id = Guid.CreateVersion7();
            await connection.ExecuteAsync(
                """
                insert into events (id, tenant_id, type, payload, created_at, next_attempt_at)
                values (@id, @tenantId, 'appointment.confirmed', '{"type":"appointment.confirmed"}'::jsonb, @now, @now)
                """,
                new { id, tenantId, now = harness.Clock.GetUtcNow() });
            ids.Add(id);
        }

        return ids;
    }

    private Task<long> CountAsync(string where, object? parameters = null) =>
        harness.ScalarAsync<long>($"select count(*) from events where {where}", parameters);

    /// <summary>
    /// Waits for something that must happen; bounded so that a failing test ends (not a measure of
    /// time). With <paramref name="tick"/>, the service's clock moves on by that much at each look, as
    /// time would: a wait the loop started just after the test's last move of the clock still ends.
    /// </summary>
    private async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? tick = null)
    {
        var held = await Eventually.ValueAsync(
            async () =>
            {
                if (await condition())
                {
                    return true;
                }

                if (tick is { } step)
                {
                    harness.Clock.Advance(step);
                }

                return false;
            },
            done => done,
            TimeSpan.FromMinutes(1));
        if (held)
        {
            return;
        }

        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(long, string, int, string?, DateTime)>(
            "select tenant_id, status, attempts, last_error, next_attempt_at from events order by tenant_id, id");
        throw new TimeoutException($"never happened: {what}; events: {string.Join("; ", rows)}");
    }

    [Fact]
    public async Task A_stalling_endpoint_is_given_up_at_the_deadline_and_retried_while_another_tenant_s_events_and_sends_leave()
    {
        using var stalling = new StallingAgenda(stalls: true);
        using var good = new StallingAgenda(stalls: false);
        var slow = await TenantWithWebhookAsync(stalling.Url);
        var other = await TenantWithWebhookAsync(good.Url);
        var slowEvents = await EventsAsync(slow, 4);
        await EventsAsync(other, 4);
        await harness.DueNowAsync(other, TestData.Settings(webhookUrl: good.Url), "rdv-other");

        var services = harness.BuildServices(new() { ["Events:Senders"] = "4", ["Events:PerTenant"] = "2" });
        var delivery = services.GetRequiredService<EventDelivery>();
        using var stop = new CancellationTokenSource();
        var loop = delivery.RunAsync(stop.Token);

        // While the slow endpoint drips: the other tenant's events are all delivered, and its reminder leaves.
        await EventuallyAsync(async () => stalling.Heads == 2 && await CountAsync("tenant_id = @other and status = 'delivered'", new { other }) == 4,
            "the other tenant's four events delivered while two of the slow tenant's stall");
        Assert.Equal(1, await services.GetRequiredService<Dispatcher>().DispatchDueAsync(CancellationToken.None));
        Assert.Single(harness.Twilio.Messages);
        // The slow tenant holds its share, never more: two of its four events were never tried.
        Assert.Equal(2, stalling.Open);
        Assert.Equal(2, stalling.MaxOpen);
        Assert.Equal(2, await CountAsync("tenant_id = @slow and attempts = 0", new { slow }));

        // The deadline (10 s on the service's clock) passes: both attempts are cut, their connections closed.
        harness.Clock.Advance(new EventOptions().AttemptTimeout);
        await EventuallyAsync(async () => stalling.Open == 0 && await CountAsync("tenant_id = @slow and last_error like 'no complete answer within 10 seconds%'", new { slow }) == 2,
            "the two stalled attempts given up, their connections closed");
        Assert.Equal(4, await CountAsync("tenant_id = @slow and status = 'pending'", new { slow }));

        // Its endpoint recovers: after the backoff every event is delivered, the retried ones with the same webhook-id.
        stalling.Stalls = false;
        harness.Clock.Advance(TimeSpan.FromMinutes(2));
        await EventuallyAsync(async () => await CountAsync("tenant_id = @slow and status = 'delivered'", new { slow }) == 4, "the slow tenant's events delivered on retry",
            tick: TimeSpan.FromSeconds(1));
        await stop.CancelAsync();
        await loop;

        var ids = stalling.WebhookIds.ToList();
        Assert.Equal(6, ids.Count);
        Assert.Equal(2, ids.GroupBy(id => id).Count(g => g.Count() == 2));
        Assert.All(ids, id => Assert.Contains(Guid.Parse(id), slowEvents));
    }

    [Fact]
    public async Task Each_tenant_gets_its_share_of_the_senders_whatever_the_others_have_due()
    {
        using var stalling = new StallingAgenda(stalls: true);
        using var good = new StallingAgenda(stalls: false);
        var slow = await TenantWithWebhookAsync(stalling.Url);
        var first = await TenantWithWebhookAsync(good.Url);
        var second = await TenantWithWebhookAsync(good.Url);
        await EventsAsync(slow, 10);
        await EventsAsync(first, 10);
        await EventsAsync(second, 10);

        var delivery = harness.BuildServices(new() { ["Events:Senders"] = "3", ["Events:PerTenant"] = "1" }).GetRequiredService<EventDelivery>();
        using var stop = new CancellationTokenSource();
        var loop = delivery.RunAsync(stop.Token);

        await EventuallyAsync(async () => await CountAsync("tenant_id in (@first, @second) and status = 'delivered'", new { first, second }) == 20,
            "the twenty events of the two healthy tenants delivered");
        Assert.Equal(1, stalling.MaxOpen);
        Assert.Equal(9, await CountAsync("tenant_id = @slow and attempts = 0", new { slow }));
        await stop.CancelAsync();
        await loop;

        // Stopping cut the stalled attempt and gave its event back at once, not after its lease.
        Assert.Equal(10, await CountAsync("tenant_id = @slow and status = 'pending' and attempts = 0 and next_attempt_at <= @now",
            new { slow, now = harness.Clock.GetUtcNow() }));
    }

    [Theory]
    [InlineData("00:00:31")]
    [InlineData("00:00:00")]
    public void An_attempt_timeout_over_30_seconds_or_none_is_refused_at_start(string timeout)
    {
        var services = harness.BuildServices(new() { ["Events:AttemptTimeout"] = timeout });
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<EventOptions>());
        Assert.Contains("Events__AttemptTimeout", error.Message, StringComparison.Ordinal);
    }
}
