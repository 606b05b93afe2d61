using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Planning;

internal enum PlanReason
{
    Created,
    Rescheduled,
}

/// <summary>What the planner needs to know of an appointment.</summary>
/// <param name="ExtraReminders">
/// Steps on top of the tenant's (a targeted appointment's <c>riskReminders.add</c>), planned by the
/// same rules; their <c>step</c> numbers follow the tenant's.
/// </param>
internal sealed record PlanInput(
    DateTimeOffset StartsAt,
    string CitizenChannel,
    bool PhoneIsMobile,
    bool Holdout,
    bool RemindersAllowed,
    bool NotificationsAllowed = true,
    IReadOnlyList<ReminderStep>? ExtraReminders = null);

/// <summary>One message of the plan; <paramref name="SkipReason"/> set means it is recorded as skipped.</summary>
internal sealed record PlannedMessage(
    string Kind, string Channel, int? Step, bool OnlyIfUnconfirmed, DateTimeOffset DueAt, string? SkipReason)
{
    /// <summary>A confirmation, change or cancellation: no step of the plan, sent whether confirmed or not.</summary>
    public static PlannedMessage Notification(string kind, string channel, DateTimeOffset dueAt) =>
        new(kind, channel, Step: null, OnlyIfUnconfirmed: false, dueAt, SkipReason: null);
}

/// <summary>
/// Turns a tenant's reminder steps and notification settings into the messages of one
/// appointment. Pure: the same inputs give the same plan, which is what the tests check.
/// </summary>
public static class ReminderPlanner
{
    /// <summary>A citizen gets at most one message about one appointment in this window.</summary>
    public static readonly TimeSpan MinimumGap = TimeSpan.FromMinutes(15);

    internal static IReadOnlyList<PlannedMessage> Plan(PlanInput appointment, TenantSettings settings, PlanReason reason, DateTimeOffset now)
    {
        if (appointment.StartsAt <= now || appointment.CitizenChannel == Channels.None)
        {
            return [];
        }

        var zone = settings.Zone;
        var plan = new List<PlannedMessage>();
        var notificationChannel = NotificationChannel(appointment);

        var notify = reason == PlanReason.Created ? settings.NotifyOnCreate : settings.NotifyOnChange;
        // The holdout gets no proactive message at all, so that it measures the effect of being reminded.
        if (notify && !appointment.Holdout && appointment.NotificationsAllowed)
        {
            plan.Add(Schedule(
                PlannedMessage.Notification(reason == PlanReason.Created ? MessageKinds.Confirmation : MessageKinds.Change, notificationChannel, now),
                appointment.StartsAt, zone, settings.QuietHours, now));
        }

        if (!appointment.Holdout && appointment.RemindersAllowed)
        {
            var steps = settings.Reminders.Concat(appointment.ExtraReminders ?? [])
                // The offset parsed once a step (an ISO 8601 duration: a regular expression each time).
                .Select((step, index) => (step, index, offset: step.Offset))
                .OrderByDescending(s => s.offset)
                .ToList();
            var catchUp = steps.Where(s => appointment.StartsAt - s.offset <= now).ToList();
            foreach (var (step, index, offset) in steps)
            {
                var channel = ReminderChannel(step.Channel, appointment);
                var due = appointment.StartsAt - offset;
                string? skip = null;
                if (due <= now)
                {
                    // Of the steps already due, only the one closest to the appointment goes out, at once.
                    skip = catchUp[^1].index == index ? null : "superseded: a later reminder is already due";
                    due = now;
                }

                var message = new PlannedMessage(MessageKinds.Reminder, channel, Step: index, step.OnlyIfUnconfirmed, due, SkipReason: skip);
                plan.Add(skip is null ? Schedule(message, appointment.StartsAt, zone, settings.QuietHours, now) : message);
            }
        }

        return ApplyMinimumGap(plan);
    }

    /// <summary>Notifications go by SMS to a mobile, by a call when the citizen prefers calls or has a landline.</summary>
    internal static string NotificationChannel(PlanInput appointment) =>
        appointment.CitizenChannel == Channels.Voice || !appointment.PhoneIsMobile ? Channels.Voice : Channels.Sms;

    internal static string ReminderChannel(string stepChannel, PlanInput appointment) =>
        appointment.CitizenChannel == Channels.Voice || !appointment.PhoneIsMobile ? Channels.Voice : stepChannel;

    /// <summary>Moves a message out of quiet hours; skips it when it could only leave after the start.</summary>
    internal static PlannedMessage Schedule(PlannedMessage message, DateTimeOffset startsAt, TimeZoneInfo zone, QuietHours? quiet, DateTimeOffset now)
    {
        var due = QuietHoursClock.NextAllowed(message.DueAt, zone, quiet);
        if (due < startsAt)
        {
            return message with { DueAt = due };
        }

        // Deferring past the start would be useless: send before the quiet hours began if still ahead.
        if (quiet is not null && message.DueAt > now)
        {
            var earlier = QuietHoursClock.LastAllowedBefore(message.DueAt, zone, quiet);
            if (earlier > now)
            {
                return message with { DueAt = earlier };
            }
        }

        return message with { SkipReason = "too_late: could only leave after the appointment starts (quiet hours)" };
    }

    private static List<PlannedMessage> ApplyMinimumGap(List<PlannedMessage> plan)
    {
        var result = new List<PlannedMessage>(plan.Count);
        DateTimeOffset? lastKept = null;
        string? lastKind = null;
        foreach (var message in plan.OrderBy(m => m.DueAt).ThenBy(m => m.Kind == MessageKinds.Reminder ? 1 : 0))
        {
            if (message.SkipReason is null && lastKept is { } last && message.DueAt - last < MinimumGap)
            {
                if (message.Kind == MessageKinds.Reminder)
                {
                    // The earlier message already says the date and how to answer.
                    result.Add(message with { SkipReason = $"merged: within 15 minutes of the {lastKind}" });
                    continue;
                }

                result.Add(message with { DueAt = last + MinimumGap });
                lastKept = last + MinimumGap;
                lastKind = message.Kind;
                continue;
            }

            result.Add(message);
            if (message.SkipReason is null)
            {
                lastKept = message.DueAt;
                lastKind = message.Kind;
            }
        }

        return result;
    }
}
