using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>The extra reminder of the riskReminders rule leaves like any reminder: Twilio gets the call at its time.</summary>
public sealed class RiskDispatchTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_citizen_who_missed_last_month_gets_the_plans_SMS_then_the_extra_call_the_day_before()
    {
        var settings = TestData.Settings(reminders: [new ReminderStep("sms", "P2D", OnlyIfUnconfirmed: false)]) with
        {
            RiskReminders = new RiskReminders(1, 365, [new ReminderStep("voice", "P1D", OnlyIfUnconfirmed: false)], 0),
        };
        var (tenantId, _) = await harness.TenantAsync(settings);
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        await store.UpsertAsync(tenantId, settings, "missed", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(-30)), None);
        await store.SetOutcomeAsync(tenantId, "missed", Outcomes.NoShow, None);
        var next = await store.UpsertAsync(tenantId, settings, "next", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(3)), None);
        Assert.Equal(Risks.Targeted, next.View!.Risk);
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        harness.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await dispatcher.DispatchDueAsync(None));
        Assert.Equal("+33612345678", Assert.Single(harness.Twilio.Messages)["To"]);
        Assert.Empty(harness.Twilio.Calls);

        harness.Clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(1, await dispatcher.DispatchDueAsync(None));
        Assert.Equal("+33612345678", Assert.Single(harness.Twilio.Calls)["To"]);
        Assert.Contains(await harness.MessagesAsync(next.AppointmentId), m => (m.Kind, m.Channel, m.Status) == ("reminder", "voice", "sent"));
    }
}
