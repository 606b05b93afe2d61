using System.Globalization;
using Dapper;
using Npgsql;

namespace RappelRdv.Reminders.Budgets;

/// <summary>One tenant's month for one channel and kind, its shards summed.</summary>
public sealed record UsageRow(long TenantId, string Channel, string Kind, long Messages, long Segments, long Calls, long Minutes);

/// <summary>
/// Reads <c>usage_counters</c>, which a trigger on <c>messages</c> keeps (migration 0010): a few
/// dozen rows per tenant and month, however many messages the month had.
/// </summary>
public static class UsageCounters
{
    /// <summary>Months are UTC calendar months, as on Twilio's invoices.</summary>
    public static DateOnly MonthOf(DateTimeOffset time) => new(time.UtcDateTime.Year, time.UtcDateTime.Month, 1);

    public static string Format(DateOnly month) => month.ToString("yyyy-MM", CultureInfo.InvariantCulture);

    /// <summary><c>YYYY-MM</c>, years 2000 to 2999.</summary>
    public static bool TryParseMonth(string? text, out DateOnly month)
    {
        month = default;
        if (text is not { Length: 7 } || text[4] != '-'
            || !DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed)
            || parsed.Year < 2000 || parsed.Year > 2999)
        {
            return false;
        }

        month = parsed;
        return true;
    }

    /// <summary>A month's rows, of one tenant or (without <paramref name="tenantId"/>) of all.</summary>
    public static async Task<IReadOnlyList<UsageRow>> ReadAsync(
        NpgsqlConnection connection, DateOnly month, long? tenantId, CancellationToken cancellationToken = default)
    {
        var rows = await connection.QueryAsync<UsageRow>(new CommandDefinition(
            """
            select tenant_id, channel, kind, sum(messages)::bigint as messages, sum(segments)::bigint as segments,
                   sum(calls)::bigint as calls, sum(minutes)::bigint as minutes
            from usage_counters
            where month = @month::date and (@tenantId::bigint is null or tenant_id = @tenantId)
            group by tenant_id, channel, kind
            order by tenant_id, channel, kind
            """,
            new { month = month.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), tenantId },
            cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>What a budget measures so far this month: SMS segments, or call minutes.</summary>
    internal static Task<long> UsedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long tenantId, DateOnly month, BudgetMeasure measure) =>
        connection.ExecuteScalarAsync<long>(
            measure == BudgetMeasure.Segments
                ? "select coalesce(sum(segments), 0)::bigint from usage_counters where tenant_id = @tenantId and month = @month::date and channel = 'sms'"
                : "select coalesce(sum(minutes), 0)::bigint from usage_counters where tenant_id = @tenantId and month = @month::date and channel = 'voice'",
            new { tenantId, month = month.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) },
            transaction);
}
