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
public static class BudgetRules
{
    public const string ExhaustedReason = "budget_exhausted";

    /// <summary>The messages a spent budget stops: those the service sends on its own initiative.</summary>
    public static bool StopsWhenSpent(string kind) => kind is MessageKinds.Reminder or MessageKinds.Confirmation;

    /// <summary>
    /// Called in the send's transaction just before a message leaves. False: it must not (the
    /// month's budget is spent and the message is one that a budget stops). When the message
    /// brings the month to 80 % or 100 %, the alerts are recorded with it.
    /// </summary>
    /// <param name="cost">Its SMS segments; 0 for a call, whose minutes are known only when it ends.</param>
    public static async Task<bool> MaySendAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, string kind, string channel, int cost, Budget? budget,
        DateTimeOffset now, ILogger logger)
    {
        var measure = channel == Channels.Sms ? BudgetMeasure.Segments : BudgetMeasure.Minutes;
        if (Limit(budget, measure) is not { } limit)
        {
            return true;
        }

        var month = UsageCounters.MonthOf(now);
        var used = await UsageCounters.UsedAsync(connection, transaction, tenantId, month, measure);
        if (used >= limit && StopsWhenSpent(kind))
        {
            await RecordAlertsAsync(connection, transaction, tenantId, month, measure, used, limit, now, logger);
            return false;
        }

        if (Reached(used + cost, limit) is not null)
        {
            await RecordAlertsAsync(connection, transaction, tenantId, month, measure, used + cost, limit, now, logger);
        }

        return true;
    }

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
