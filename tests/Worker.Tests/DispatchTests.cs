using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

public sealed class DispatchTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> AppointmentDueNowAsync(long tenantId, TenantSettings settings, string externalId = "rdv-1", string phone = "06 12 34 56 78")
    {
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        // P1D before an appointment 20 hours away: the reminder is already due (catch-up), at once.
        var result = await store.UpsertAsync(tenantId, settings, externalId, TestData.Appointment(harness.Clock.GetUtcNow().AddHours(20), phone), None);
        return result.AppointmentId;
    }

    [Fact]
    public async Task A_due_reminder_reaches_Twilio_with_the_form_fields_of_the_contract()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var appointmentId = await AppointmentDueNowAsync(tenantId, settings);
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        var claimed = await dispatcher.DispatchDueAsync(None);

        Assert.Equal(1, claimed);
        var sms = Assert.Single(harness.Twilio.Messages);
        Assert.Equal("+33612345678", sms["To"]);
        Assert.Equal("+33700000000", sms["From"]);
        // The callback names the message: Twilio's first callback records the SID even if its answer was lost.
        Assert.Equal($"http://rappel.test/twilio/sms/status?m={await harness.ScalarAsync<Guid>("select id from messages"):N}", sms["StatusCallback"]);
        Assert.Contains("RSA", sms["Body"], StringComparison.Ordinal);
        var message = Assert.Single(await harness.MessagesAsync(appointmentId));
        Assert.Equal(("reminder", "sms", "sent"), (message.Kind, message.Channel, message.Status));
        Assert.Equal(sms["Sid"], await harness.ScalarAsync<string>("select provider_id from messages"));
        var segments = await harness.ScalarAsync<int>("select segments from messages");
        Assert.Equal(RappelRdv.Reminders.Texts.Gsm7.Segments(sms["Body"]), segments);
        Assert.InRange(segments, 1, 2);
        Assert.True(RappelRdv.Reminders.Texts.Gsm7.IsGsm7(sms["Body"]));
    }

    [Fact]
    public async Task A_messaging_service_replaces_the_from_number()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await AppointmentDueNowAsync(tenantId, settings);
        var dispatcher = harness.BuildServices(new() { ["Twilio:MessagingServiceSid"] = "MG00000000000000000000000000000000" }).GetRequiredService<Dispatcher>();

        await dispatcher.DispatchDueAsync(None);

        var sms = Assert.Single(harness.Twilio.Messages);
        Assert.Equal("MG00000000000000000000000000000000", sms["MessagingServiceSid"]);
        Assert.False(sms.ContainsKey("From"));
    }

    [Fact]
    public async Task Nothing_is_sent_before_it_is_due_nor_twice()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        await store.UpsertAsync(tenantId, settings, "later", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(3)), None);
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        Assert.Equal(0, await dispatcher.DispatchDueAsync(None));
        harness.Clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(1, await dispatcher.DispatchDueAsync(None));
        Assert.Equal(0, await dispatcher.DispatchDueAsync(None));

        Assert.Single(harness.Twilio.Messages);
    }

    [Fact]
    public async Task Two_dispatchers_over_one_database_send_each_message_once()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        for (var i = 0; i < 120; i++)
        {
            await AppointmentDueNowAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 {i / 100:D2} {i % 100:D2}");
        }

        var first = harness.BuildServices(new() { ["Dispatch:BatchSize"] = "10" }).GetRequiredService<Dispatcher>();
        var second = harness.BuildServices(new() { ["Dispatch:BatchSize"] = "10" }).GetRequiredService<Dispatcher>();

        var claimed = await Task.WhenAll(first.DispatchDueAsync(None), second.DispatchDueAsync(None));

        Assert.Equal(120, claimed.Sum());
        Assert.True(claimed.All(c => c > 0), $"both dispatchers should have worked: {string.Join(", ", claimed)}");
        var unsent = await harness.ScalarAsync<string?>("select string_agg(status || ': ' || coalesce(error, '-'), '; ') from messages where status <> 'sent'");
        Assert.True(harness.Twilio.Messages.Count == 120, $"{harness.Twilio.Messages.Count} reached Twilio; not sent: {unsent}");
        Assert.Equal(120, harness.Twilio.Messages.Select(m => m["To"]).Distinct().Count());
        Assert.Equal(120, await harness.ScalarAsync<int>("select count(*) from messages where status = 'sent'"));
    }

    [Fact]
    public async Task Twilio_answering_429_then_201_sends_once()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await AppointmentDueNowAsync(tenantId, settings);
        harness.Twilio.Failures.Enqueue((429, 20429));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        // The retry waits on the service's clock.
        await harness.AdvancingClockAsync(dispatcher.DispatchDueAsync(None));

        Assert.Equal(2, harness.Twilio.RequestCount);
        Assert.Single(harness.Twilio.Messages);
        Assert.Equal("sent", await harness.ScalarAsync<string>("select status from messages"));
    }

    [Fact]
    public async Task Repeated_500s_open_the_breaker_which_closes_again_once_Twilio_recovers()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        for (var i = 0; i < 12; i++)
        {
            await AppointmentDueNowAsync(tenantId, settings, $"rdv-{i}", $"06 12 34 56 {i:D2}");
        }

        harness.Twilio.FailAlways = (500, 20500);
        var services = harness.BuildServices(new() { ["Dispatch:Parallelism"] = "1" });
        var dispatcher = services.GetRequiredService<Dispatcher>();

        await dispatcher.DispatchDueAsync(None);

        // A 500 leaves the outcome unknown; after a few, the breaker stops calling Twilio at all.
        var calls = harness.Twilio.RequestCount;
        Assert.InRange(calls, 4, 8);
        Assert.True(calls == await harness.ScalarAsync<int>("select count(*) from messages where status = 'sending'"),
            await harness.ScalarAsync<string>("select string_agg(status || ':' || coalesce(error, ''), ' | ') from messages"));
        Assert.Equal(12 - calls, await harness.ScalarAsync<int>("select count(*) from messages where status = 'pending' and error like 'circuit open%'"));

        harness.Twilio.FailAlways = null;
        // The breaker's break (1 s here) runs on the service's clock, like the deferral of the others.
        harness.Clock.Advance(TimeSpan.FromMinutes(1));
        await dispatcher.DispatchDueAsync(None);

        Assert.Equal(12 - calls, harness.Twilio.Messages.Count);
        Assert.Equal(12 - calls, await harness.ScalarAsync<int>("select count(*) from messages where status = 'sent'"));
    }

    [Fact]
    public async Task Messages_of_unknown_outcome_are_reconciled_with_Twilio_not_sent_again()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        // Long enough for the request to reach the fake Twilio on a loaded machine (it holds the answer past it anyway).
        var slow = harness.BuildServices(new() { ["Twilio:RequestTimeout"] = "00:00:05" }).GetRequiredService<Dispatcher>();
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        // Twilio takes the first message but answers after our timeout: we cannot know it did.
        await AppointmentDueNowAsync(tenantId, settings, "accepted", "06 11 11 11 11");
        harness.Twilio.HoldAnswers();
        var sending = slow.DispatchDueAsync(None);
        await harness.Twilio.WaitForRequestsAsync(1);
        await sending;
        harness.Twilio.ReleaseAnswers();
        await WaitUntilAsync(() => harness.Twilio.Messages.Count == 1);
        // Twilio answers 500 for the second: it did not take it, but we cannot know that either.
        await AppointmentDueNowAsync(tenantId, settings, "lost", "06 22 22 22 22");
        harness.Twilio.Failures.Enqueue((500, 20500));
        await dispatcher.DispatchDueAsync(None);
        Assert.Equal(2, await harness.ScalarAsync<int>("select count(*) from messages where status = 'sending'"));
        Assert.Single(harness.Twilio.Messages);

        // Nothing happens within the lease; after it, Twilio is asked: the first is found, sent.
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        harness.Clock.Advance(new DispatchOptions().ClaimLease + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        Assert.Equal(
            harness.Twilio.Messages.Single(m => m["To"] == "+33611111111")["Sid"],
            await harness.ScalarAsync<string>("select provider_id from messages m join appointments a on a.id = m.appointment_id where a.external_id = 'accepted'"));
        // The second is not listed, but Twilio might still hold it queued: not sent again yet.
        await dispatcher.DispatchDueAsync(None);
        Assert.Single(harness.Twilio.Messages);
        Assert.Equal("sending", await harness.ScalarAsync<string>(
            "select m.status from messages m join appointments a on a.id = m.appointment_id where a.external_id = 'lost'"));

        // Once Twilio would have dropped it (its validity period), it is sent again, once.
        harness.Clock.Advance(TimeSpan.FromHours(1) + new DispatchOptions().ClaimLease);
        Assert.Equal(1, await dispatcher.RecoverAsync(None));
        await dispatcher.DispatchDueAsync(None);

        Assert.Equal(2, harness.Twilio.Messages.Count);
        Assert.Equal(["+33611111111", "+33622222222"], harness.Twilio.Messages.Select(m => m["To"]).Order());
        Assert.Equal(2, await harness.ScalarAsync<int>("select count(*) from messages where status = 'sent'"));
    }

    private static Task WaitUntilAsync(Func<bool> condition) =>
        Eventually.UntilAsync(condition, () => "not reached in time");

    [Fact]
    public async Task Error_21610_marks_the_number_opted_out()
    {
        var (tenantId, settings) = await harness.TenantAsync(TestData.Settings(webhookUrl: "https://agenda.example.org/events"));
        var appointmentId = await AppointmentDueNowAsync(tenantId, settings);
        harness.Twilio.Failures.Enqueue((400, 21610));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        await dispatcher.DispatchDueAsync(None);

        Assert.Equal("failed", (await harness.MessagesAsync(appointmentId))[0].Status);
        Assert.Equal(1, await harness.ScalarAsync<int>("select count(*) from opt_outs where phone = '+33612345678'"));
        Assert.Equal("citizen.opted_out", await harness.ScalarAsync<string>("select type from events"));
    }

    [Fact]
    public async Task Error_21211_fails_the_message_and_records_message_failed_for_the_agenda()
    {
        var (tenantId, settings) = await harness.TenantAsync(TestData.Settings(webhookUrl: "https://agenda.example.org/events"));
        var appointmentId = await AppointmentDueNowAsync(tenantId, settings);
        harness.Twilio.Failures.Enqueue((400, 21211));
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        await dispatcher.DispatchDueAsync(None);

        var message = Assert.Single(await harness.MessagesAsync(appointmentId));
        Assert.Equal("failed", message.Status);
        Assert.StartsWith("21211", message.Error, StringComparison.Ordinal);
        Assert.True(await harness.ScalarAsync<bool>("select sms_unusable from phone_flags where phone = '+33612345678'"));
        Assert.Equal("message.failed", await harness.ScalarAsync<string>("select type from events"));
    }
}
