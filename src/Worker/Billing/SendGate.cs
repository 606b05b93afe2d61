using Npgsql;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Billing;

/// <summary>
/// What money decides about a send that every other rule allows, read in the send's transaction:
/// a paused account defers it (or skips it when the appointment would have started), a spent
/// budget skips it, and a send the budget lets go holds its cost until its outcome is written
/// (<see cref="BudgetRules.MaySendAsync"/>). Null: it may leave.
/// </summary>
internal static class SendGate
{
    public static async Task<SendDecision?> CheckAsync(
        NpgsqlDataSource holds, DateTime? pausedUntil, MessageSnapshot m, Guid claimToken, string channel,
        string body, TenantSettings settings, DateTimeOffset now, ILogger logger)
    {
        // The pause is read by the caller in its send's transaction, with the message (one round trip less).
        if (pausedUntil is { } paused)
        {
            var until = paused.AsUtc();
            return until < m.StartsAt
                ? new SendDecision(Verdict.Defer, "sending paused: Twilio refused the account", until)
                : new SendDecision(Verdict.Skip, "too_late: sending paused until after the appointment");
        }

        // A call is held as one minute: its length is known only when it ends.
        var cost = channel == Channels.Sms ? Gsm7.Segments(body) : 1;
        return await BudgetRules.MaySendAsync(holds, new BudgetedSend(m.TenantId, m.Id, claimToken, m.Kind, channel, cost), settings.Budget, now, logger)
            ? null
            : new SendDecision(Verdict.Skip, BudgetRules.ExhaustedReason);
    }
}
