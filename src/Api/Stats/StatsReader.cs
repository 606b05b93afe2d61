using Dapper;
using Npgsql;

namespace RappelRdv.Api.Stats;

/// <summary>
/// Reads the statistics tables of migration 0004: the folded counts plus the ledger not folded
/// yet, in one statement (one snapshot), so the answer is exact whether or not the compactor has run.
/// </summary>
internal sealed class StatsReader(NpgsqlDataSource db)
{
    /// <summary>How the ledger (appointment_stat_changes) gives the key of each breakdown.</summary>
    private static readonly Dictionary<string, string> LedgerKeys = new(StringComparer.Ordinal)
    {
        ["day"] = "''",
        ["service"] = "service",
        ["location"] = "location_name",
        ["channel"] = "channel",
        ["confirmation"] = "case when confirmed then 'confirmed' else 'unconfirmed' end",
        ["cohort"] = "case when holdout then 'holdout' else 'reminded' end",
        ["language"] = "language",
        ["variant"] = "variant",
        ["risk"] = "risk",
    };

    public static string Dimension(string by) => by is "week" or "month" ? "day" : by;

    /// <summary>Counts per local day of <paramref name="tenantId"/>, for the days that have any.</summary>
    public async Task<IReadOnlyList<(DateOnly Day, Tally Tally)>> ByDayAsync(
        long tenantId, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(tenantId, "day", "day", from, to, cancellationToken);
        return [.. rows.Select(r => (DateOnly.FromDateTime(r.Day), r.Tally))];
    }

    /// <summary>Counts per key of a breakdown other than time (service, location, channel, confirmation, cohort, language, variant, risk).</summary>
    public async Task<IReadOnlyList<(string Key, Tally Tally)>> ByKeyAsync(
        long tenantId, string dimension, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(tenantId, dimension, "key", from, to, cancellationToken);
        return [.. rows.Select(r => (r.Key, r.Tally))];
    }

    private async Task<IEnumerable<CountsRow>> QueryAsync(
        long tenantId, string dimension, string groupBy, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var ledgerKey = LedgerKeys[dimension];
        // The dimension and the grouping pick among the constants above, never text from the request.
        var sql = $"""
            select {groupBy}, sum(appointments) as appointments, sum(honoured) as honoured, sum(no_show) as no_show,
                   sum(excused) as excused, sum(cancelled) as cancelled
            from (
                select day, key, appointments, honoured, no_show, excused, cancelled
                from appointment_stats
                where tenant_id = @tenantId and dimension = @dimension and day between @from::date and @to::date
                union all
                select day, {ledgerKey} as key, appointments, honoured, no_show, excused, cancelled
                from appointment_stat_changes
                where tenant_id = @tenantId and day between @from::date and @to::date
            ) counted
            group by {groupBy}
            having sum(appointments) <> 0
            """;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.QueryAsync<CountsRow>(new CommandDefinition(
            sql,
            new { tenantId, dimension, from = from.ToDateTime(TimeOnly.MinValue), to = to.ToDateTime(TimeOnly.MinValue) },
            cancellationToken: cancellationToken));
    }

    private sealed class CountsRow
    {
        public DateTime Day { get; set; }

        public string Key { get; set; } = "";

        public long Appointments { get; set; }

        public long Honoured { get; set; }

        public long NoShow { get; set; }

        public long Excused { get; set; }

        public long Cancelled { get; set; }

        public Tally Tally => new(Appointments, Honoured, NoShow, Excused, Cancelled);
    }
}
