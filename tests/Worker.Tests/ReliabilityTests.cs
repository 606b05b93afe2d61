using Dapper;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// "Never twice, never lost" under Twilio's faults and a Worker stopping (docs/RELIABILITY.md): each
/// fault is staged with the fake Twilio, each wait released by the test, never timed.
/// </summary>
public sealed class ReliabilityTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Lease = new DispatchOptions().ClaimLease;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> DueNowAsync(long tenantId, TenantSettings settings, string externalId, string phone)
    {
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        // P1D before an appointment 20 hours away: due at once.
        return (await store.UpsertAsync(tenantId, settings, externalId, TestData.Appointment(harness.Clock.GetUtcNow().AddHours(20), phone), None)).AppointmentId;
    }

    private Task<string> StatusOfAsync(string externalId) => harness.ScalarAsync<string>(
        "select m.status from messages m join appointments a on a.id = m.appointment_id where a.external_id = @externalId", new { externalId });

    [Fact]
    public async Task A_500_from_Twilio_that_took_the_message_is_reconciled_not_sent_again()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "rdv", "06 11 11 11 11");
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        await dispatcher.DispatchDueAsync(None);
        Assert.Equal("sending", await StatusOfAsync("rdv"));
        await dispatcher.DispatchDueAsync(None);
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);

        var sms = Assert.Single(harness.Twilio.Messages);
        Assert.Equal("sent", await StatusOfAsync("rdv"));
        Assert.Equal(sms["Sid"], await harness.ScalarAsync<string>("select provider_id from messages"));
    }

    [Fact]
    public async Task A_message_Twilio_holds_queued_and_does_not_list_is_not_sent_twice_after_the_lease()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "rdv", "06 11 11 11 11");
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        harness.Twilio.ListShowsAccepted = false;
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await dispatcher.DispatchDueAsync(None);

        // Lease after lease, Twilio lists nothing: the message stays "not yet known", never sent again.
        for (var round = 0; round < 3; round++)
        {
            harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
            Assert.Equal(0, await dispatcher.RecoverAsync(None));
            await dispatcher.DispatchDueAsync(None);
        }

        Assert.Single(harness.Twilio.Messages);
        Assert.Equal("sending", await StatusOfAsync("rdv"));
        Assert.StartsWith("not listed by Twilio yet", await harness.ScalarAsync<string>("select error from messages"), StringComparison.Ordinal);

        // Twilio lists it at last: at the next look (one lease on), it is sent, with Twilio's SID.
        harness.Twilio.ListShowsAccepted = true;
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        Assert.Equal("sent", await StatusOfAsync("rdv"));
        Assert.Single(harness.Twilio.Messages);
    }

    [Fact]
    public async Task A_failing_Messages_list_leaves_its_row_for_later_and_the_other_messages_leave()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "unknown", "06 11 11 11 11");
        harness.Twilio.Failures.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await dispatcher.DispatchDueAsync(None);
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        await DueNowAsync(tenantId, settings, "fresh", "06 22 22 22 22");

        harness.Twilio.ListFailure = (500, 20500);
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);

        Assert.True(harness.Twilio.ListRequests > 0);
        Assert.Equal("sent", await StatusOfAsync("fresh"));
        Assert.Equal("sending", await StatusOfAsync("unknown"));
        Assert.StartsWith("look-up failed", await harness.ScalarAsync<string>(
            "select m.error from messages m join appointments a on a.id = m.appointment_id where a.external_id = 'unknown'"), StringComparison.Ordinal);
        Assert.Equal(["+33622222222"], harness.Twilio.Messages.Select(m => m["To"]));
    }

    [Fact]
    public async Task A_timeout_on_a_send_is_never_followed_by_a_second_send_while_Twilio_lists_it()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "rdv", "06 11 11 11 11");
        // Long enough for the request to reach the fake Twilio on a loaded machine (it holds the answer past it anyway).
        var dispatcher = harness.BuildServices(new() { ["Twilio:RequestTimeout"] = "00:00:05" }).GetRequiredService<Dispatcher>();
        harness.Twilio.HoldAnswers();
        var sending = dispatcher.DispatchDueAsync(None);
        // Twilio has the request and holds its answer until after our timeout.
        await harness.Twilio.WaitForRequestsAsync(1);
        await sending;
        harness.Twilio.ReleaseAnswers();
        await Eventually.UntilAsync(() => harness.Twilio.Messages.Count > 0, () => "Twilio never took the request we gave up on, once released");

        for (var round = 0; round < 3; round++)
        {
            await dispatcher.DispatchDueAsync(None);
            harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
            await dispatcher.RecoverAsync(None);
        }

        Assert.Equal(1, harness.Twilio.Received);
        Assert.Single(harness.Twilio.Messages);
        Assert.Equal("sent", await StatusOfAsync("rdv"));
    }

    [Fact]
    public async Task A_call_of_unknown_outcome_is_reconciled_with_the_Calls_list_not_placed_twice()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "landline", "01 23 45 67 89");
        harness.Twilio.FailuresAfterAccepting.Enqueue((502, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        await dispatcher.DispatchDueAsync(None);
        Assert.Equal("sending", await StatusOfAsync("landline"));
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);

        var call = Assert.Single(harness.Twilio.Calls);
        Assert.Equal("sent", await StatusOfAsync("landline"));
        Assert.Equal(call["Sid"], await harness.ScalarAsync<string>("select provider_id from messages"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from events"));
    }

    [Fact]
    public async Task A_claim_left_by_a_crash_before_its_send_goes_back_to_pending_and_its_call_is_placed_later()
    {
        var (tenantId, settings) = await harness.TenantAsync(TestData.Settings(webhookUrl: "https://agenda.example.org/events"));
        await DueNowAsync(tenantId, settings, "landline", "01 23 45 67 89");
        // What a Worker killed between its claim and the send leaves: sending, no record of a start.
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "update messages set status = 'sending', claim_token = gen_random_uuid(), claimed_at = @at, channel = 'voice', body = 'x'",
                new { at = harness.Clock.GetUtcNow() });
        }

        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        Assert.Equal(0, harness.Twilio.ListRequests);
        Assert.Equal("pending", await StatusOfAsync("landline"));
        await dispatcher.DispatchDueAsync(None);

        Assert.Single(harness.Twilio.Calls);
        Assert.Equal("sent", await StatusOfAsync("landline"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from events where type = 'message.failed'"));
    }

    [Fact]
    public async Task A_send_waiting_on_Twilio_holds_its_own_slot_and_the_next_round_sends_the_others_meanwhile()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "slow", "06 11 11 11 11");
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        var sends = dispatcher.NewSends();
        harness.Twilio.HoldAnswers();

        // The round returns with its send still at Twilio (a timeout in the making): no barrier at its end.
        Assert.Equal(1, await dispatcher.DispatchDueAsync(sends, None));
        await harness.Twilio.WaitForRequestsAsync(1);
        Assert.Equal("sending", await StatusOfAsync("slow"));
        await DueNowAsync(tenantId, settings, "next", "06 22 22 22 22");
        Assert.Equal(1, await dispatcher.DispatchDueAsync(sends, None));
        await harness.Twilio.WaitForRequestsAsync(2);

        harness.Twilio.ReleaseAnswers();
        await sends.DrainAsync();
        Assert.Equal("sent", await StatusOfAsync("slow"));
        Assert.Equal("sent", await StatusOfAsync("next"));
    }

    [Fact]
    public async Task Stopping_gives_back_the_claims_not_started_at_once_and_lets_the_sends_at_Twilio_finish()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await DueNowAsync(tenantId, settings, "first", "06 11 11 11 11");
        await DueNowAsync(tenantId, settings, "second", "06 22 22 22 22");
        var blocked = await DueNowAsync(tenantId, settings, "blocked", "06 33 33 33 33");
        var dispatcher = harness.BuildServices(new() { ["Dispatch:Parallelism"] = "4" }).GetRequiredService<Dispatcher>();

        // An agenda's write holds one appointment: its claimed message cannot start.
        await using var agenda = await harness.Database.DataSource.OpenConnectionAsync();
        await using var write = await agenda.BeginTransactionAsync();
        await agenda.ExecuteAsync("select 1 from appointments where id = @blocked for update", new { blocked }, write);
        harness.Twilio.HoldAnswers();
        using var stopping = new CancellationTokenSource();
        var dispatch = dispatcher.DispatchDueAsync(stopping.Token);
        // The blocked one waits for the next round of its group (its appointment was held: SKIP LOCKED), the two others are at Twilio.
        await harness.Twilio.WaitForRequestsAsync(2);

        await stopping.CancelAsync();
        harness.Twilio.ReleaseAnswers();
        // Returns while the agenda still holds its lock: nothing waited for it, nor for a lease.
        Assert.Equal(3, await dispatch);

        Assert.Equal("sent", await StatusOfAsync("first"));
        Assert.Equal("sent", await StatusOfAsync("second"));
        Assert.Equal("pending", await StatusOfAsync("blocked"));
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from messages where status = 'sending'"));
        Assert.Equal(2, harness.Twilio.Messages.Count);
        await write.CommitAsync();
    }

    [Fact]
    public void A_dispatch_job_that_fails_is_deleted_rather_than_kept_in_the_Failed_list()
    {
        foreach (var name in new[] { nameof(DispatchJobs.Tick), nameof(DispatchJobs.RunSlice) })
        {
            // Read as declared, not constructed: Hangfire's attribute reaches for its logger when built.
            var retry = Assert.Single(typeof(DispatchJobs).GetMethod(name)!.GetCustomAttributesData(), a => a.AttributeType == typeof(AutomaticRetryAttribute));
            var settings = retry.NamedArguments.ToDictionary(a => a.MemberName, a => a.TypedValue.Value);
            Assert.Equal(0, settings[nameof(AutomaticRetryAttribute.Attempts)]);
            Assert.Equal((int)AttemptsExceededAction.Delete, settings[nameof(AutomaticRetryAttribute.OnAttemptsExceeded)]);
        }
    }
}
