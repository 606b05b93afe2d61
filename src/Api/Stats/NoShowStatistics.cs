using System.Globalization;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;

namespace RappelRdv.Api.Stats;

/// <summary>
/// Builds the answer of <c>GET /v1/stats/no-show</c>, which the dashboard and its CSV export
/// show too.
/// </summary>
/// <remarks>
/// Rows come in a fixed order and with fixed keys where the keys are known, because a chart
/// wants them: every week or month from <c>from</c> to <c>to</c>, empty ones included (zero
/// counts, a null rate); both keys of <c>confirmation</c> and <c>cohort</c>, the three of <c>risk</c>; the three
/// channels. The first and last week or month count only the days inside the period.
/// Services and locations come by number of appointments, most first; those without one
/// have the key "".
/// </remarks>
internal sealed class NoShowStatistics(StatsReader reader)
{
    private static readonly Dictionary<string, string[]> KnownKeys = new(StringComparer.Ordinal)
    {
        ["channel"] = ["sms", "voice", "none"],
        ["confirmation"] = ["confirmed", "unconfirmed"],
        ["cohort"] = ["reminded", "holdout"],
        ["risk"] = [Risks.Targeted, Risks.HeldOut, Risks.None],
    };

    public async Task<NoShowStats> ComputeAsync(long tenantId, NoShowQuery query, CancellationToken cancellationToken)
    {
        var rows = query.ByTime
            ? await ByTimeAsync(tenantId, query, cancellationToken)
            : await ByKeyAsync(tenantId, query, cancellationToken);
        var total = rows.Aggregate(default(Tally), (sum, row) => sum + Tally.Of(row));
        return new NoShowStats(NoShowQuery.Format(query.From), NoShowQuery.Format(query.To), query.By, rows, total.ToCounts());
    }

    /// <summary>"2026-W01" (ISO 8601 week, which may belong to the previous or next calendar year) or "2026-01".</summary>
    public static string PeriodKey(DateOnly day, string by) =>
        by == "week"
            ? string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(day.ToDateTime(TimeOnly.MinValue))}-W{ISOWeek.GetWeekOfYear(day.ToDateTime(TimeOnly.MinValue)):00}")
            : day.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    private async Task<List<NoShowRow>> ByTimeAsync(long tenantId, NoShowQuery query, CancellationToken cancellationToken)
    {
        var buckets = new Dictionary<string, Tally>(StringComparer.Ordinal);
        var order = new List<string>();
        for (var day = query.From; day <= query.To; day = day.AddDays(1))
        {
            var key = PeriodKey(day, query.By);
            if (buckets.TryAdd(key, default))
            {
                order.Add(key);
            }
        }

        foreach (var (day, tally) in await reader.ByDayAsync(tenantId, query.From, query.To, cancellationToken))
        {
            var key = PeriodKey(day, query.By);
            buckets[key] += tally;
        }

        return [.. order.Select(key => buckets[key].ToRow(key))];
    }

    private async Task<List<NoShowRow>> ByKeyAsync(long tenantId, NoShowQuery query, CancellationToken cancellationToken)
    {
        var counted = await reader.ByKeyAsync(tenantId, StatsReader.Dimension(query.By), query.From, query.To, cancellationToken);
        if (!KnownKeys.TryGetValue(query.By, out var known))
        {
            return [.. counted
                .OrderByDescending(c => c.Tally.Appointments)
                .ThenBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => c.Tally.ToRow(c.Key))];
        }

        var byKey = counted.ToDictionary(c => c.Key, c => c.Tally, StringComparer.Ordinal);
        return [.. known.Select(key => byKey.GetValueOrDefault(key).ToRow(key)),
                .. counted.Where(c => !known.Contains(c.Key)).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Tally.ToRow(c.Key))];
    }
}
