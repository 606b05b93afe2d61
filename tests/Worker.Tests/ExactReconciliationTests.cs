using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// Reconciliation never takes what another message holds, trusts only a single match, and one
/// row's trouble never stops the others (contract §9.1). Twilio's faults are staged with the fake;
/// the lease passes on the fake clock.
/// </summary>
public sealed class ExactReconciliationTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Lease = new DispatchOptions().ClaimLease;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private Task<long> CountAsync(string where) => harness.ScalarAsync<long>($"select count(*) from messages where {where}");

    [Fact]
    public async Task Two_calls_due_together_for_one_citizen_the_first_refused_each_is_placed_once_with_its_own_sid()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, "rdv-1", "01 23 45 67 89");
        await harness.DueNowAsync(tenantId, settings, "rdv-2", "01 23 45 67 89");
        // Twilio refuses the first call with a 500 without placing it: its outcome is unknown to us.
        harness.Twilio.Failures.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        Assert.Equal(2, await dispatcher.DispatchDueAsync(None));
        Assert.Single(harness.Twilio.Calls);
        Assert.Equal(1, await CountAsync("status = 'sending'"));

        // The Calls list shows one call to that number, created after the start: the other message's.
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        Assert.Equal(1, await CountAsync("status = 'sending' and error like 'not listed by Twilio yet%held by other messages%'"));
        Assert.Equal(1, await CountAsync("provider_id is not null"));

        // Not listed at a second look one lease on: never placed, so placed now.
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);

        Assert.Equal(2, harness.Twilio.Calls.Count);
        Assert.Equal(2, await CountAsync("status = 'sent'"));
        Assert.Equal(2, await harness.ScalarAsync<long>("select count(distinct provider_id) from messages"));
        Assert.Equal(
            harness.Twilio.Calls.Select(c => c["Sid"]).Order(),
            (await harness.ScalarAsync<string[]>("select array_agg(provider_id order by provider_id) from messages")).Order());
    }

    [Fact]
    public async Task A_refused_call_started_after_its_claim_is_placed_again_when_Twilio_surely_dropped_it_not_a_lease_later()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, "rdv", "01 23 45 67 89");
        harness.Twilio.Failures.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        Assert.Equal(1, await dispatcher.DispatchDueAsync(None));
        Assert.Empty(harness.Twilio.Calls);
        // The call waited its turn at the account's call rate: its send started 10 s after its claim. The lease
        // runs from the claim, the grace (two leases for a call) from the send.
        Assert.Equal(1, await harness.ScalarAsync<long>(
            "with moved as (update message_sends set started_at = started_at + interval '10 seconds' returning 1) select count(*) from moved"));

        // One lease on, then another: not listed, and Twilio may still hold it (the grace runs 10 s more).
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        Assert.Equal(1, await CountAsync("status = 'sending' and error like 'not listed by Twilio yet%'"));

        // Just past the grace's end, not one more lease: back to pending, and placed.
        harness.Clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);
        Assert.Single(harness.Twilio.Calls);
        Assert.Equal(1, await CountAsync("status = 'sent'"));
    }

    [Fact]
    public async Task A_match_held_by_another_message_is_not_taken_and_does_not_stop_the_rows_after_it()
    {
        // The same text to one number from two tenants: Twilio got only one of the two, answered 500 to both.
        var (first, settings) = await harness.TenantAsync();
        var (second, _) = await harness.TenantAsync(settings);
        await harness.DueNowAsync(first, settings, "rdv-a", "06 11 11 11 11");
        await harness.DueNowAsync(second, settings, "rdv-a", "06 11 11 11 11");
        harness.Twilio.Failures.Enqueue((500, 20500));
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await dispatcher.DispatchDueAsync(None);
        // Another citizen's message, claimed later (reconciled after them), taken by Twilio with its answer lost.
        harness.Clock.Advance(TimeSpan.FromSeconds(1));
        await harness.DueNowAsync(first, settings, "rdv-b", "06 22 22 22 22");
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        await dispatcher.DispatchDueAsync(None);
        Assert.Equal(2, harness.Twilio.Messages.Count);
        Assert.Equal(3, await CountAsync("status = 'sending'"));

        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(2, await dispatcher.RecoverAsync(None));

        // One of the two took Twilio's message; the other is "not yet known", not a second holder of that SID.
        Assert.Equal(2, await CountAsync("status = 'sent'"));
        Assert.Equal(1, await CountAsync("status = 'sending' and error like '%held by other messages%'"));
        Assert.Equal(2, await harness.ScalarAsync<long>("select count(distinct provider_id) from messages"));
        Assert.Equal(2, harness.Twilio.Messages.Count);
    }

    [Fact]
    public async Task With_bodies_redacted_a_single_match_by_number_and_time_is_taken_and_two_are_left_for_later()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        harness.Twilio.RedactBodies = true;
        await harness.DueNowAsync(tenantId, settings, "alone", "06 33 33 33 33");
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await dispatcher.DispatchDueAsync(None);

        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        Assert.Equal(harness.Twilio.Messages.Single()["Sid"], await harness.ScalarAsync<string>("select provider_id from messages"));

        // Two appointments of one citizen, both taken by Twilio, both answers lost: redacted, nothing tells them apart.
        await harness.DueNowAsync(tenantId, settings, "twin-1", "06 44 44 44 44");
        await harness.DueNowAsync(tenantId, settings, "twin-2", "06 44 44 44 44");
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        harness.Twilio.FailuresAfterAccepting.Enqueue((500, 20500));
        await dispatcher.DispatchDueAsync(None);
        harness.Clock.Advance(Lease + TimeSpan.FromSeconds(1));
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        Assert.Equal(2, await CountAsync("status = 'sending' and error like 'ambiguous: Twilio lists 2 matches%'"));

        // Still ambiguous past the validity period: never sent again, since Twilio has both.
        harness.Clock.Advance(TimeSpan.FromHours(2));
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);
        Assert.Equal(3, harness.Twilio.Messages.Count);
    }
}
