using Microsoft.Extensions.DependencyInjection;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// What holds at the send itself: a budget against a burst (contract §9.1, §9.5), and the 15-minute
/// gap against a message whose send started and whose answer was lost (§3).
/// </summary>
public sealed class SendTimeBudgetTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<long> CountAsync(string sql) => harness.ScalarAsync<long>(sql);

    [Fact]
    public async Task Eight_reminders_due_at_once_on_a_budget_of_four_segments_send_four_and_skip_the_rest()
    {
        var (tenantId, settings) = await harness.TenantAsync(
            TestData.Settings(webhookUrl: "https://agenda.example.org/events") with { Budget = new(MonthlySegments: 4, MonthlyCallMinutes: null) });
        for (var i = 0; i < 8; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 56 {i:D2}");
        }

        // Twilio holds its answers: the sends that go are all in flight together, none counted as sent yet.
        harness.Twilio.HoldAnswers();
        var dispatch = harness.BuildServices().GetRequiredService<Dispatcher>().DispatchDueAsync(None);
        try
        {
            // The budget is spent by the four in flight: the refusal of the fifth is committed (its alert) while the four
            // are still at Twilio, their answers unwritten (the group's skips are written with those answers).
            var exhausted = 0L;
            await Eventually.UntilAsync(
                async () => harness.Twilio.Received >= 4
                    && (exhausted = await CountAsync("select count(*) from events where type = 'budget.exhausted'")) >= 1,
                () => $"four reminders at Twilio and the budget's exhaustion recorded: {harness.Twilio.Received} at Twilio, {exhausted} alert");

            Assert.Equal(4, harness.Twilio.Received);
            Assert.Equal(0, await CountAsync("select count(*) from messages where status = 'sent'"));
        }
        finally
        {
            // Whatever failed above, the sends in flight get their answers and the dispatch ends before the next test.
            harness.Twilio.ReleaseAnswers();
            await Task.WhenAny(dispatch, Task.Delay(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(8, await dispatch);

        Assert.Equal(4, await CountAsync("select count(*) from messages where status = 'sent'"));
        Assert.Equal(4, await CountAsync("select count(*) from messages where status = 'skipped' and error = 'budget_exhausted'"));
        Assert.Equal(4, await CountAsync("select coalesce(sum(segments), 0)::bigint from usage_counters"));
        Assert.Equal(1, await CountAsync("select count(*) from events where type = 'budget.exhausted'"));
        Assert.Equal(1, await CountAsync("select count(*) from events where type = 'budget.threshold_reached'"));
    }

    [Fact]
    public async Task A_message_whose_send_started_and_whose_answer_was_lost_counts_for_the_15_minute_gap()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, "rdv");
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await dispatcher.DispatchDueAsync(None);
        Assert.Equal(1, await CountAsync("select count(*) from messages where status = 'sending'"));

        // Another reminder of the same appointment falls due five minutes later.
        harness.Clock.Advance(TimeSpan.FromMinutes(5));
        await harness.ScalarAsync<int>(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, only_if_unconfirmed, plan_version, due_at, status, attempts, created_at, updated_at)
            select gen_random_uuid(), appointment_id, tenant_id, 'reminder', 'sms', false, plan_version, @now, 'pending', 0, @now, @now from messages
            returning 1
            """,
            new { now = harness.Clock.GetUtcNow() });
        await dispatcher.DispatchDueAsync(None);

        Assert.Single(harness.Twilio.Messages);
        Assert.Equal(1, await CountAsync("select count(*) from messages where status = 'skipped' and error like 'merged%'"));
    }
}
