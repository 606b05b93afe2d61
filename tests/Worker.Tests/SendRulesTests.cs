using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

public sealed class SendRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly TenantSettings Settings = TestData.Settings(new QuietHours(new TimeOnly(20, 0), new TimeOnly(8, 30)));

    private static MessageSnapshot Message(
        string kind = "reminder", string status = "scheduled", int planVersion = 1, DateTimeOffset? startsAt = null,
        bool optedOut = false, bool onlyIfUnconfirmed = false, DateTimeOffset? lastSent = null, string? phone = "+33612345678") =>
        new(Guid.NewGuid(), kind, "sms", onlyIfUnconfirmed, planVersion, "sending", Guid.NewGuid(), 0, 1, 1, "rdv", (startsAt ?? Now.AddDays(1)).UtcDateTime,
            status, null, phone, true, "sms", "RSA", null, null, null, "in_person", 1, Settings.ToJson(), optedOut, false, lastSent?.UtcDateTime);

    [Fact]
    public void A_due_current_message_is_sent() => Assert.Equal(Verdict.Send, SendRules.Decide(Message(), Settings, Now).Verdict);

    [Fact]
    public void Never_for_a_cancelled_appointment_but_its_cancellation_notice()
    {
        Assert.Equal(Verdict.Cancel, SendRules.Decide(Message(status: "cancelled_by_service"), Settings, Now).Verdict);
        Assert.Equal(Verdict.Send, SendRules.Decide(Message(kind: "cancellation", status: "cancelled_by_service"), Settings, Now).Verdict);
    }

    [Fact]
    public void Never_from_an_older_plan() => Assert.Equal(Verdict.Cancel, SendRules.Decide(Message(planVersion: 0), Settings, Now).Verdict);

    [Fact]
    public void Never_once_the_appointment_has_started() =>
        Assert.Equal(Verdict.Skip, SendRules.Decide(Message(startsAt: Now), Settings, Now).Verdict);

    [Fact]
    public void Never_to_a_number_that_opted_out() => Assert.Equal(Verdict.Skip, SendRules.Decide(Message(optedOut: true), Settings, Now).Verdict);

    [Fact]
    public void Never_to_an_erased_number() => Assert.Equal(Verdict.Skip, SendRules.Decide(Message(phone: null), Settings, Now).Verdict);

    [Fact]
    public void An_only_if_unconfirmed_step_is_skipped_once_confirmed() =>
        Assert.Equal(Verdict.Skip, SendRules.Decide(Message(status: "confirmed", onlyIfUnconfirmed: true), Settings, Now).Verdict);

    [Fact]
    public void In_quiet_hours_it_waits_for_the_morning()
    {
        var night = new DateTimeOffset(2026, 12, 1, 22, 0, 0, TimeSpan.Zero);

        var decision = SendRules.Decide(Message(startsAt: night.AddDays(1)), Settings, night);

        Assert.Equal(Verdict.Defer, decision.Verdict);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 7, 30, 0, TimeSpan.Zero), decision.DeferTo);
    }

    [Fact]
    public void Within_15_minutes_of_another_message_a_reminder_is_dropped_a_notice_waits()
    {
        var last = Now.AddMinutes(-5);

        Assert.Equal(Verdict.Skip, SendRules.Decide(Message(lastSent: last), Settings, Now).Verdict);
        var notice = SendRules.Decide(Message(kind: "cancellation", status: "cancelled_by_service", lastSent: last), Settings, Now);
        Assert.Equal((Verdict.Defer, (DateTimeOffset?)Now.AddMinutes(10)), (notice.Verdict, notice.DeferTo));
    }
}
