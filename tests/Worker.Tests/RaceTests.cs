using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Appointments;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>An agenda changing an appointment while the Worker is sending its reminder.</summary>
public sealed class RaceTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_cancellation_during_the_send_waits_for_it_and_the_citizen_is_told()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await store.UpsertAsync(tenantId, settings, "rdv", TestData.Appointment(harness.Clock.GetUtcNow().AddHours(20)), None);
        harness.Twilio.HoldAnswers();

        var sending = dispatcher.DispatchDueAsync(None);
        await harness.Twilio.WaitForRequestsAsync(1);
        var cancelling = store.CancelByServiceAsync(tenantId, settings, "rdv", None);
        // The DELETE waits for the send to settle rather than racing it: PostgreSQL shows it waiting on the lock.
        await harness.WaitForLockWaitAsync();
        Assert.False(cancelling.IsCompleted);
        harness.Twilio.ReleaseAnswers();
        await cancelling;
        await sending;

        var messages = await harness.MessagesAsync(await harness.ScalarAsync<long>("select id from appointments"));
        Assert.Contains(messages, m => m is { Kind: "reminder", Status: "sent" });
        Assert.Contains(messages, m => m is { Kind: "cancellation", Status: "pending" });
    }

    [Fact]
    public async Task A_claimed_message_cancelled_before_its_turn_is_never_sent()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        var dispatcher = harness.BuildServices(new() { ["Dispatch:Parallelism"] = "1" }).GetRequiredService<Dispatcher>();
        await store.UpsertAsync(tenantId, settings, "first", TestData.Appointment(harness.Clock.GetUtcNow().AddHours(20), "06 11 11 11 11"), None);
        await store.UpsertAsync(tenantId, settings, "second", TestData.Appointment(harness.Clock.GetUtcNow().AddHours(20), "06 22 22 22 22"), None);
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                "update messages set due_at = due_at - interval '1 minute' from appointments a where a.id = messages.appointment_id and a.external_id = 'first'");
        }

        harness.Twilio.HoldAnswers();
        var sending = dispatcher.DispatchDueAsync(None);
        await harness.Twilio.WaitForRequestsAsync(1);
        // The first is at Twilio; the second, due too, is rescheduled and then cancelled meanwhile.
        await store.UpsertAsync(tenantId, settings, "second", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(9), "06 22 22 22 22"), None);
        await store.CancelByServiceAsync(tenantId, settings, "second", None);
        harness.Twilio.ReleaseAnswers();
        await sending;

        var second = await harness.MessagesAsync(await harness.ScalarAsync<long>("select id from appointments where external_id = 'second'"));
        // Its old reminder never left; only the news of the cancellation went out.
        Assert.Contains(second, m => m is { Kind: "reminder", Status: "cancelled" });
        Assert.DoesNotContain(second, m => m.Kind != "cancellation" && m.Status is "sent" or "sending");
        Assert.Single(harness.Twilio.Messages, m => m["To"] == "+33622222222");
        Assert.Single(harness.Twilio.Messages, m => m["To"] == "+33611111111");
    }

    [Fact]
    public async Task A_reschedule_during_the_send_replaces_the_plan_after_it()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();
        await store.UpsertAsync(tenantId, settings, "rdv", TestData.Appointment(harness.Clock.GetUtcNow().AddHours(20)), None);
        harness.Twilio.HoldAnswers();

        var sending = dispatcher.DispatchDueAsync(None);
        await harness.Twilio.WaitForRequestsAsync(1);
        var rescheduling = store.UpsertAsync(tenantId, settings, "rdv", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(5)), None);
        await harness.WaitForLockWaitAsync();
        harness.Twilio.ReleaseAnswers();
        await rescheduling;
        await sending;

        var messages = await harness.MessagesAsync(await harness.ScalarAsync<long>("select id from appointments"));
        Assert.Single(messages, m => m.Status == "sent");
        Assert.Contains(messages, m => m is { Kind: "change", Status: "pending" });
        Assert.Contains(messages, m => m is { Kind: "reminder", Status: "pending" });
        Assert.Equal(2, await harness.ScalarAsync<int>("select plan_version from appointments"));
    }
}
