using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// The sends of one claim go as a group sharing one connection and one transaction (issue 28:
/// throughput without a connection per send in flight). What a send alone guaranteed must still hold
/// for each message of a group: the 15-minute rule between two messages of one appointment, an
/// appointment held elsewhere holding back only its own message, and no two groups waiting on each
/// other (the usage counters they both write).
/// </summary>
public sealed class SendGroupTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<long> CountAsync(string sql) => harness.ScalarAsync<long>(sql);

    [Fact]
    public async Task Sixty_four_sends_in_flight_hold_no_more_transactions_than_the_loops_groups()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        for (var i = 0; i < 64; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 {i / 100:D2} {i % 100:D2}");
        }

        var dispatcher = harness.BuildServices(new()
        {
            ["Dispatch:Parallelism"] = "64",
            ["Dispatch:Groups"] = "4",
            ["Dispatch:BatchSize"] = "16",
            // Slots beyond one second of the account's rate would only wait for tokens: a rate that allows the 64.
            ["Twilio:MaxRequestsPerSecond"] = "1000",
        }).GetRequiredService<Dispatcher>();

        harness.Twilio.HoldAnswers();
        var dispatch = dispatcher.DispatchDueAsync(None);
        try
        {
            // All 64 at Twilio at once, their rows locked until their answers are committed...
            await harness.Twilio.WaitForRequestsAsync(64);
            // ...by four transactions: one per group, not one per send.
            Assert.Equal(4, await CountAsync(
                "select count(*) from pg_stat_activity where datname = current_database() and state = 'idle in transaction'"));
        }
        finally
        {
            // Whatever failed above, the sends get their answers and the dispatch ends before the next test.
            harness.Twilio.ReleaseAnswers();
            await Task.WhenAny(dispatch, Task.Delay(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(64, await dispatch);
        Assert.Equal(64, await CountAsync("select count(*) from messages where status = 'sent'"));
        Assert.Equal(64, harness.Twilio.Messages.Select(m => m["To"]).Distinct().Count());
    }

    [Theory]
    [InlineData("10000", "128", 128)]
    [InlineData("60", "128", 60)]
    [InlineData("5", "128", 16)]
    [InlineData("5", "4", 4)]
    public void A_loop_keeps_no_more_sends_in_flight_than_one_second_of_the_accounts_rate(string rate, string parallelism, int slots)
    {
        var dispatcher = harness.BuildServices(new() { ["Twilio:MaxRequestsPerSecond"] = rate, ["Dispatch:Parallelism"] = parallelism })
            .GetRequiredService<Dispatcher>();

        Assert.Equal(slots, dispatcher.NewSends().Parallelism);
    }

    [Fact]
    public async Task Two_messages_of_one_appointment_claimed_together_keep_the_15_minute_rule()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, "rdv");
        // A second reminder of the same appointment, due at the same moment: both land in one claim.
        await harness.ScalarAsync<int>(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, only_if_unconfirmed, plan_version, due_at, status, attempts, created_at, updated_at)
            select gen_random_uuid(), appointment_id, tenant_id, 'reminder', 'sms', false, plan_version, @now, 'pending', 0, @now, @now from messages
            returning 1
            """,
            new { now = harness.Clock.GetUtcNow() });

        Assert.Equal(2, await harness.BuildServices().GetRequiredService<Dispatcher>().DispatchDueAsync(None));

        // The second is decided in the group's next round, after the first is committed: it sees it and merges.
        Assert.Single(harness.Twilio.Messages);
        Assert.Equal(1, await CountAsync("select count(*) from messages where status = 'sent'"));
        Assert.Equal(1, await CountAsync("select count(*) from messages where status = 'skipped' and error like 'merged%'"));
    }

    [Fact]
    public async Task An_appointment_held_by_an_agendas_write_holds_back_only_its_own_message()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, "first", "06 11 11 11 11");
        await harness.DueNowAsync(tenantId, settings, "second", "06 22 22 22 22");
        var blocked = await harness.DueNowAsync(tenantId, settings, "blocked", "06 33 33 33 33");

        await using var agenda = await harness.Database.DataSource.OpenConnectionAsync();
        await using var write = await agenda.BeginTransactionAsync();
        await agenda.ExecuteAsync("select 1 from appointments where id = @blocked for update", new { blocked }, write);
        var dispatch = harness.BuildServices().GetRequiredService<Dispatcher>().DispatchDueAsync(None);

        try
        {
            // The other two are sent and committed while the agenda still holds its appointment.
            var sent = 0L;
            await Eventually.UntilAsync(
                async () => (sent = await CountAsync("select count(*) from messages where status = 'sent'")) == 2,
                () => $"the two free messages not committed as sent while one appointment is held: {sent} sent");
            Assert.False(dispatch.IsCompleted);
            Assert.Equal(2, harness.Twilio.Messages.Count);
        }
        finally
        {
            // Once the agenda commits, the held one goes in the group's next round (and, if the above failed, the
            // dispatch ends before the next test).
            await write.CommitAsync();
            await Task.WhenAny(dispatch, Task.Delay(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(3, await dispatch);
        Assert.Equal(3, await CountAsync("select count(*) from messages where status = 'sent'"));
        Assert.Equal(3, harness.Twilio.Messages.Select(m => m["To"]).Distinct().Count());
    }

    [Fact]
    public async Task Two_dispatchers_sending_one_tenants_burst_in_groups_never_deadlock_and_count_each_sms_once()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        const int Count = 300;
        for (var i = 0; i < Count; i++)
        {
            await harness.DueNowAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 {i / 100:D2} {i % 100:D2}");
        }

        var group = new Dictionary<string, string?> { ["Dispatch:Parallelism"] = "64", ["Dispatch:Groups"] = "8", ["Dispatch:BatchSize"] = "8" };
        var dispatchers = Enumerable.Range(0, 2).Select(_ => harness.BuildServices(group).GetRequiredService<Dispatcher>()).ToList();

        var claimed = await Task.WhenAll(dispatchers.Select(d => d.DispatchDueAsync(None)));

        // Two groups of one tenant write the same month's counters: with a counter row per message's shard, locked as
        // each answer was written, PostgreSQL found deadlocks and aborted groups (their sends left to recovery).
        var notSent = await harness.ScalarAsync<string?>(
            "select string_agg(status || ': ' || coalesce(error, '-'), '; ') from messages where status <> 'sent'");
        Assert.True(notSent is null, $"not all sent: {notSent}");
        Assert.Equal(Count, claimed.Sum());
        Assert.Equal(Count, harness.Twilio.Messages.Select(m => m["To"]).Distinct().Count());
        Assert.Equal(Count, harness.Twilio.Messages.Count);
        Assert.Equal(Count, await CountAsync("select coalesce(sum(messages), 0)::bigint from usage_counters"));
        Assert.Equal(Count, await CountAsync("select coalesce(sum(segments), 0)::bigint from usage_counters"));
    }
}
