using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Tests;

public sealed class ReminderPlannerTests
{
    private static readonly QuietHours Evening = new(new TimeOnly(20, 0), new TimeOnly(8, 30));

    private static TenantSettings Tenant(QuietHours? quiet = null, bool notifyOnCreate = true, params ReminderStep[] steps) =>
        new("Europe/Paris", steps.Length > 0 ? steps : [new ReminderStep("sms", "P2D", false), new ReminderStep("voice", "P1D", true)],
            quiet, notifyOnCreate, true, true, 0, 180, null, null);

    private static PlanInput Mobile(DateTimeOffset startsAt, bool holdout = false, string channel = "sms") => new(startsAt, channel, true, holdout, true);

    private static DateTimeOffset Utc(int month, int day, int hour, int minute = 0) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void The_default_plan_is_a_confirmation_now_an_SMS_two_days_before_and_a_call_the_day_before()
    {
        var now = Utc(12, 1, 9);
        var startsAt = Utc(12, 10, 8, 30);

        var plan = ReminderPlanner.Plan(Mobile(startsAt), Tenant(), PlanReason.Created, now);

        Assert.Equal(
            [
                PlannedMessage.Notification("confirmation", "sms", now),
                new PlannedMessage("reminder", "sms", Step: 0, OnlyIfUnconfirmed: false, startsAt.AddDays(-2), SkipReason: null),
                new PlannedMessage("reminder", "voice", Step: 1, OnlyIfUnconfirmed: true, startsAt.AddDays(-1), SkipReason: null),
            ],
            plan);
    }

    [Fact]
    public void A_reminder_already_due_goes_at_once_merged_with_the_confirmation()
    {
        var now = Utc(12, 1, 9);
        var plan = ReminderPlanner.Plan(Mobile(Utc(12, 2, 15)), Tenant(), PlanReason.Created, now);

        Assert.Equal(3, plan.Count);
        Assert.Equal(("confirmation", now, (string?)null), (plan[0].Kind, plan[0].DueAt, plan[0].SkipReason));
        Assert.StartsWith("merged", plan[1].SkipReason, StringComparison.Ordinal);
        Assert.Equal(Utc(12, 1, 15), plan[2].DueAt);
    }

    [Fact]
    public void Of_several_steps_already_due_only_the_closest_to_the_appointment_goes()
    {
        var now = Utc(12, 1, 9);
        var plan = ReminderPlanner.Plan(Mobile(Utc(12, 1, 20)), Tenant(notifyOnCreate: false), PlanReason.Created, now);

        Assert.StartsWith("superseded", plan.Single(p => p.Step == 0).SkipReason, StringComparison.Ordinal);
        Assert.Equal((now, (string?)null), (plan.Single(p => p.Step == 1).DueAt, plan.Single(p => p.Step == 1).SkipReason));
    }

    [Fact]
    public void Nothing_for_a_past_appointment_the_holdout_or_a_citizen_who_wants_nothing()
    {
        var now = Utc(12, 1, 9);

        Assert.Empty(ReminderPlanner.Plan(Mobile(Utc(11, 20, 9)), Tenant(), PlanReason.Created, now));
        Assert.Empty(ReminderPlanner.Plan(Mobile(Utc(12, 10, 9), holdout: true), Tenant(), PlanReason.Created, now));
        Assert.Empty(ReminderPlanner.Plan(Mobile(Utc(12, 10, 9), channel: "none"), Tenant(), PlanReason.Created, now));
    }

    [Fact]
    public void A_landline_or_a_citizen_who_prefers_calls_is_called()
    {
        var now = Utc(12, 1, 9);
        var landline = new PlanInput(Utc(12, 10, 9), "voice", PhoneIsMobile: false, Holdout: false, RemindersAllowed: true);

        Assert.All(ReminderPlanner.Plan(landline, Tenant(), PlanReason.Created, now), p => Assert.Equal("voice", p.Channel));
    }

    [Fact]
    public void A_reschedule_sends_a_change_notice()
    {
        var plan = ReminderPlanner.Plan(Mobile(Utc(12, 10, 9)), Tenant(), PlanReason.Rescheduled, Utc(12, 1, 9));

        Assert.Equal("change", plan[0].Kind);
    }

    [Fact]
    public void Spring_forward_a_reminder_due_in_quiet_hours_leaves_at_08_30_summer_time()
    {
        // Monday 30 March 2026, 08:00 in Paris (06:00 UTC, summer time since Sunday 29 at 02:00).
        var startsAt = Utc(3, 30, 6);
        var plan = ReminderPlanner.Plan(Mobile(startsAt), Tenant(Evening, false, new ReminderStep("sms", "P1D", false)), PlanReason.Created, Utc(3, 20, 9));

        // Due Sunday 29 at 08:00 summer time, in quiet hours: 08:30 summer time is 06:30 UTC.
        Assert.Equal(Utc(3, 29, 6, 30), Assert.Single(plan).DueAt);
    }

    [Fact]
    public void Spring_forward_night_quiet_hours_end_at_08_30_on_the_morning_of_the_change()
    {
        var startsAt = Utc(3, 29, 12);
        var plan = ReminderPlanner.Plan(Mobile(startsAt), Tenant(Evening, false, new ReminderStep("sms", "PT14H", false)), PlanReason.Created, Utc(3, 20, 9));

        // Due Saturday 28 at 22:00 UTC (23:00 winter time): deferred to Sunday 08:30 summer time.
        Assert.Equal(Utc(3, 29, 6, 30), Assert.Single(plan).DueAt);
    }

    [Fact]
    public void Fall_back_a_reminder_due_in_quiet_hours_leaves_at_08_30_winter_time()
    {
        // Monday 26 October 2026, 08:00 in Paris (07:00 UTC, winter time since Sunday 25 at 03:00).
        var startsAt = Utc(10, 26, 7);
        var plan = ReminderPlanner.Plan(Mobile(startsAt), Tenant(Evening, false, new ReminderStep("sms", "P1D", false)), PlanReason.Created, Utc(10, 20, 9));

        // Due Sunday 25 at 07:00 UTC = 08:00 winter time, in quiet hours: 08:30 winter time is 07:30 UTC.
        Assert.Equal(Utc(10, 25, 7, 30), Assert.Single(plan).DueAt);
    }

    [Fact]
    public void Fall_back_the_repeated_hour_is_inside_quiet_hours()
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var night = new QuietHours(new TimeOnly(1, 0), new TimeOnly(4, 0));

        // 02:30 local happens twice on 25 October: at 00:30 and at 01:30 UTC.
        Assert.True(QuietHoursClock.IsQuiet(Utc(10, 25, 0, 30), zone, night));
        Assert.True(QuietHoursClock.IsQuiet(Utc(10, 25, 1, 30), zone, night));
        Assert.Equal(Utc(10, 25, 3), QuietHoursClock.NextAllowed(Utc(10, 25, 0, 30), zone, night));
    }

    [Fact]
    public void A_message_that_could_only_leave_after_the_start_is_skipped_with_its_reason()
    {
        // 21:00 in Paris, appointment at 08:00 tomorrow: quiet until 08:30, too late.
        var now = Utc(12, 1, 20);
        var plan = ReminderPlanner.Plan(Mobile(Utc(12, 2, 7)), Tenant(Evening, false, new ReminderStep("sms", "P1D", false)), PlanReason.Created, now);

        Assert.StartsWith("too_late", Assert.Single(plan).SkipReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reminder_due_in_the_night_before_an_early_appointment_leaves_the_evening_before()
    {
        // Appointment at 08:00 Paris; PT10H is due at 22:00 (quiet): 08:30 would be too late, 19:59 is still ahead.
        var plan = ReminderPlanner.Plan(Mobile(Utc(12, 3, 7)), Tenant(Evening, false, new ReminderStep("sms", "PT10H", false)), PlanReason.Created, Utc(12, 1, 9));

        Assert.Equal(Utc(12, 2, 18, 59), Assert.Single(plan).DueAt);
    }

    [Theory]
    [InlineData("P2D", 48 * 60)]
    [InlineData("PT3H", 180)]
    [InlineData("P1DT12H", 36 * 60)]
    [InlineData("P1W", 7 * 24 * 60)]
    [InlineData("PT90M", 90)]
    public void Iso_durations_parse(string text, int minutes)
    {
        Assert.True(IsoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMinutes(minutes), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PT")]
    [InlineData("2D")]
    [InlineData("P1M")]
    [InlineData("P1Y")]
    [InlineData("-P1D")]
    public void Other_durations_do_not(string text) => Assert.False(IsoDuration.TryParse(text, out _));
}
