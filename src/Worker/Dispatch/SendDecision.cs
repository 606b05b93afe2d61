using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Worker.Dispatch;

internal enum Verdict
{
    Send,
    Skip,
    Cancel,
    Defer,
}

internal sealed record SendDecision(Verdict Verdict, string? Reason = null, DateTimeOffset? DeferTo = null);

/// <summary>
/// Whether a claimed message may leave now. Pure, so that every rule of the contract is a
/// unit test: never after the start, never for a cancelled appointment, never to a number
/// that opted out, never in quiet hours, at most one message per appointment in 15 minutes
/// (counting a message whose send started and whose outcome is unknown: it may have arrived).
/// </summary>
internal static class SendRules
{
    public static SendDecision Decide(MessageSnapshot m, TenantSettings settings, DateTimeOffset now)
    {
        var isNotice = m.Kind is MessageKinds.Cancellation;
        if (m.Outcome is not null)
        {
            return new SendDecision(Verdict.Cancel, $"outcome {m.Outcome} recorded");
        }

        if (!isNotice && RappelRdv.Reminders.Appointments.AppointmentStatus.IsCancelled(m.AppointmentStatus))
        {
            return new SendDecision(Verdict.Cancel, "appointment cancelled");
        }

        if (!isNotice && m.PlanVersion != m.CurrentPlanVersion)
        {
            return new SendDecision(Verdict.Cancel, "superseded by a new plan");
        }

        if (m.StartsAt <= now)
        {
            return new SendDecision(Verdict.Skip, "too_late: the appointment has started");
        }

        if (m.Phone is null || m.CitizenChannel == Channels.None)
        {
            return new SendDecision(Verdict.Skip, "no way to reach the citizen");
        }

        if (m.OptedOut)
        {
            return new SendDecision(Verdict.Skip, "opted out");
        }

        if (m.Kind == MessageKinds.Reminder && m.OnlyIfUnconfirmed && m.AppointmentStatus == RappelRdv.Reminders.Appointments.AppointmentStatus.Confirmed)
        {
            return new SendDecision(Verdict.Skip, "already confirmed");
        }

        if (m.Kind == MessageKinds.Reminder && m.AppointmentStatus == RappelRdv.Reminders.Appointments.AppointmentStatus.RescheduleRequested)
        {
            return new SendDecision(Verdict.Skip, "the citizen asked for another date");
        }

        if (QuietHoursClock.IsQuiet(now, settings.Zone, settings.QuietHours))
        {
            var next = QuietHoursClock.NextAllowed(now, settings.Zone, settings.QuietHours);
            return next < m.StartsAt
                ? new SendDecision(Verdict.Defer, "quiet hours", next)
                : new SendDecision(Verdict.Skip, "too_late: quiet hours last until the appointment");
        }

        if (m.LastSentAt is { } last && now - last < ReminderPlanner.MinimumGap)
        {
            if (m.Kind == MessageKinds.Reminder)
            {
                return new SendDecision(Verdict.Skip, "merged: another message went out less than 15 minutes ago");
            }

            var at = last + ReminderPlanner.MinimumGap;
            return at < m.StartsAt
                ? new SendDecision(Verdict.Defer, "15 minutes since the last message", at)
                : new SendDecision(Verdict.Skip, "too_late: within 15 minutes of another message");
        }

        return new SendDecision(Verdict.Send);
    }
}
