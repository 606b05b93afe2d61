using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Budgets;

internal enum BudgetMeasure
{
    Segments,
    Minutes,
}

/// <summary>
/// A tenant's monthly budget (<c>budget.monthlySegments</c>, <c>budget.monthlyCallMinutes</c>):
/// at 80 % the agenda is told once a month (<c>budget.threshold_reached</c>); once it is used up,
/// reminders and confirmations are skipped (<c>budget_exhausted</c>) and the agenda is told once
/// (<c>budget.exhausted</c>). A cancellation, a change notice and the answers to a citizen still
/// go: they tell the citizen that the appointment they count on is off or moved, or answer them.
/// </summary>
/// <summary>A send about to leave, as a budget sees it.</summary>
public sealed record BudgetedSend(long TenantId, Guid MessageId, Guid ClaimToken, string Kind, string Channel, int Cost);

public static class BudgetRules
{
    public const string ExhaustedReason = "budget_exhausted";

    /// <summary>The messages a spent budget stops: those the service sends on its own initiative.</summary>
    public static bool StopsWhenSpent(string kind) => kind is MessageKinds.Reminder or MessageKinds.Confirmation;

    /// <summary>
    /// Called by a send just before its message leaves. When the tenant has a budget for this channel,
    /// the send reserves its cost (a hold, see migration 0013) against the month's usage and the
    /// other sends' holds, atomically for the tenant (an advisory lock taken by reservations only, each
    /// a few statements long and waiting on nothing a send holds) and committed at once on a
    /// connection of <paramref name="holds"/>, beside the send's own transaction: a burst of sends
    /// overshoots the budget by nothing but the last message's extra segments. False: it must not
    /// leave (the budget, counting what is in flight, is spent, and the message is one that a budget
    /// stops). The alerts a reservation reaches are recorded with it, so that no send waits on the
    /// alert rows of another send still at Twilio.
    /// </summary>
    /// <param name="send">Its cost: its SMS segments; for a call, one minute (what it costs is known only when it ends).</param>
    public static async Task<bool> MaySendAsync(NpgsqlDataSource holds, BudgetedSend send, Budget? budget, DateTimeOffset now, ILogger logger)
    {
        var measure = send.Channel == Channels.Sms ? BudgetMeasure.Segments : BudgetMeasure.Minutes;
        if (Limit(budget, measure) is not { } limit)
        {
            return true;
        }

        var month = UsageCounters.MonthOf(now);
        var monthText = month.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var channel = send.Channel == Channels.Sms ? Channels.Sms : Channels.Voice;
        await using var connection = await holds.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        await connection.ExecuteAsync(
            $"""
            select pg_advisory_xact_lock({HoldLockClass}, (@tenantId % 2147483647)::int);
            delete from budget_holds h where h.tenant_id = @tenantId and not ({LiveHold});
            """,
            new { tenantId = send.TenantId },
            transaction);
        // Usage and the live holds of the other messages in one snapshot: a send whose outcome commits
        // meanwhile is in one or the other, never in neither.
        var used = await connection.ExecuteScalarAsync<long>(
            $"""
            select (select coalesce(sum({(measure == BudgetMeasure.Segments ? "segments" : "minutes")}), 0)
                    from usage_counters where tenant_id = @tenantId and month = @month::date and channel = @channel)
                 + (select coalesce(sum(h.units), 0) from budget_holds h
                    where h.tenant_id = @tenantId and h.month = @month::date and h.channel = @channel and h.message_id <> @messageId
                      and {LiveHold});
            """,
            new { tenantId = send.TenantId, month = monthText, channel, messageId = send.MessageId },
            transaction);
        var allowed = used < limit || !StopsWhenSpent(send.Kind);
        if (allowed)
        {
            await connection.ExecuteAsync(
                """
                insert into budget_holds (message_id, claim_token, tenant_id, month, channel, units, created_at)
                values (@messageId, @claimToken, @tenantId, @month::date, @channel, @cost, @now)
                on conflict (message_id) do update set claim_token = excluded.claim_token, month = excluded.month,
                    channel = excluded.channel, units = excluded.units, created_at = excluded.created_at
                """,
                new { messageId = send.MessageId, claimToken = send.ClaimToken, tenantId = send.TenantId, month = monthText, channel, cost = send.Cost, now },
                transaction);
        }

        var reached = allowed ? used + send.Cost : used;
        if (Reached(reached, limit) is not null)
        {
            await RecordAlertsAsync(connection, transaction, send.TenantId, month, measure, reached, limit, now, logger);
        }

        await transaction.CommitAsync(CancellationToken.None);
        return allowed;
    }

    // The first key of the two-key advisory locks of budget reservations (the second: the tenant).
    private const int HoldLockClass = 29013;

    // A hold counts while its claim may still be at Twilio, and a call's while it is placed and not over.
    private const string LiveHold =
        """
        exists (select 1 from messages m where m.id = h.message_id
                and ((m.status = 'sending' and m.claim_token = h.claim_token) or (h.channel = 'voice' and m.status = 'sent')))
        """;

    /// <summary>
    /// Every tenant with a budget, against this month's usage: records the alerts not yet sent. Call
    /// minutes are known only when a call ends, so their thresholds are noticed here (the Worker runs
    /// it every minute) rather than at a send.
    /// </summary>
    public static async Task<int> WatchAsync(NpgsqlDataSource db, DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var month = UsageCounters.MonthOf(now);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var tenants = (await connection.QueryAsync<BudgetState>(new CommandDefinition(
            """
            select t.id as tenant_id,
                   (t.settings -> 'budget' ->> 'monthlySegments')::int as monthly_segments,
                   (t.settings -> 'budget' ->> 'monthlyCallMinutes')::int as monthly_call_minutes,
                   coalesce(sum(u.segments) filter (where u.channel = 'sms'), 0)::bigint as segments,
                   coalesce(sum(u.minutes) filter (where u.channel = 'voice'), 0)::bigint as minutes
            from tenants t left join usage_counters u on u.tenant_id = t.id and u.month = @month::date
            where jsonb_typeof(t.settings -> 'budget') = 'object'
            group by t.id
            """,
            new { month = month.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) },
            cancellationToken: cancellationToken))).AsList();
        var recorded = 0;
        foreach (var t in tenants)
        {
            foreach (var (measure, used, limit) in new[] { (BudgetMeasure.Segments, t.Segments, t.MonthlySegments), (BudgetMeasure.Minutes, t.Minutes, t.MonthlyCallMinutes) })
            {
                if (limit is { } cap && Reached(used, cap) is not null)
                {
                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                    recorded += await RecordAlertsAsync(connection, transaction, t.TenantId, month, measure, used, cap, now, logger);
                    await transaction.CommitAsync(cancellationToken);
                }
            }
        }

        return recorded;
    }

    private sealed record BudgetState(long TenantId, int? MonthlySegments, int? MonthlyCallMinutes, long Segments, long Minutes);

    private static int? Limit(Budget? budget, BudgetMeasure measure) =>
        measure == BudgetMeasure.Segments ? budget?.MonthlySegments : budget?.MonthlyCallMinutes;

    /// <summary>
    /// The highest level reached (an event type), in whole numbers: 80 % of 20,000 is 16,000 exactly.
    /// Public for the dashboard, which highlights a budget at the same levels as the alerts.
    /// </summary>
    public static string? Reached(long used, int limit) =>
        used >= limit ? BudgetEventTypes.Exhausted
        : used * 5 >= (long)limit * 4 ? BudgetEventTypes.ThresholdReached
        : null;

    /// <summary>
    /// Each level reached, once a month: the primary key of <c>budget_alerts</c> lets one writer in,
    /// whatever the number of Workers; the levels are always taken in the same order, so two
    /// writers never wait on each other in a cycle.
    /// </summary>
    private static async Task<int> RecordAlertsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, DateOnly month, BudgetMeasure measure, long used,
        int limit, DateTimeOffset now, ILogger logger)
    {
        var recorded = 0;
        foreach (var level in new[] { BudgetEventTypes.ThresholdReached, BudgetEventTypes.Exhausted })
        {
            if (level == BudgetEventTypes.Exhausted && used < limit)
            {
                break;
            }

            var measureName = measure == BudgetMeasure.Segments ? "segments" : "minutes";
            var inserted = await connection.ExecuteAsync(
                """
                insert into budget_alerts (tenant_id, month, measure, level, created_at)
                values (@tenantId, @month::date, @measureName, @level, @now)
                on conflict do nothing
                """,
                new { tenantId, month = month.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), measureName, level, now },
                transaction);
            if (inserted == 0)
            {
                continue;
            }

            var percent = Math.Round(100.0 * used / limit, 1);
            await EventOutbox.RecordAsync(connection, transaction, tenantId,
                new BudgetEvent(level, now, new BudgetEventData(UsageCounters.Format(month), measureName, used, limit, percent)));
            logger.LogWarning("Tenant {TenantId} reached {Percent} % of its monthly {Measure} budget ({Used} of {Limit}): {Event}",
                tenantId, percent, measureName, used, limit, level);
            recorded++;
        }

        return recorded;
    }
}
