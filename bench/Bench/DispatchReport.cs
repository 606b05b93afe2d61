using System.Globalization;
using Dapper;
using Npgsql;

namespace RappelRdv.Bench;

/// <summary>Waits until the burst is sent, then reports rate and dispatch lag (sent_at - due_at) from the database.</summary>
internal static class DispatchReport
{
    public static async Task<int> RunAsync(string[] args)
    {
        var db = Args.Get(args, "db");
        var expected = Args.Int(args, "expected", 20_000);
        var timeout = TimeSpan.FromSeconds(Args.Int(args, "timeout-seconds", 600));
        await using var connection = new NpgsqlConnection(db);
        await connection.OpenAsync();
        var started = TimeProvider.System.GetTimestamp();
        long sent = 0;
        while (TimeProvider.System.GetElapsedTime(started) < timeout)
        {
            sent = await connection.ExecuteScalarAsync<long>("select count(*) from messages where kind = 'reminder' and status = 'sent' and sent_at is not null and error is distinct from 'bench-pending'");
            Console.Error.WriteLine($"  sent {sent} / {expected}");
            if (sent >= expected)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(5));
        }

        var row = await connection.QuerySingleAsync<Report>(
            """
            select count(*) as sent,
                   extract(epoch from max(sent_at) - min(sent_at))::float8 as spanseconds,
                   percentile_cont(0.5) within group (order by extract(epoch from sent_at - due_at))::float8 as lagp50,
                   percentile_cont(0.99) within group (order by extract(epoch from sent_at - due_at))::float8 as lagp99,
                   max(extract(epoch from sent_at - due_at))::float8 as lagmax
            from messages where status = 'sent' and kind = 'reminder'
            """);
        var duplicates = await connection.ExecuteScalarAsync<long>(
            "select count(*) from (select provider_id from messages where provider_id is not null group by provider_id having count(*) > 1) d");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"dispatch: {row.Sent} sent in {row.SpanSeconds:0.0} s = {row.Sent / Math.Max(row.SpanSeconds, 0.001):0} msg/s; lag p50 {row.LagP50:0.0} s, p99 {row.LagP99:0.0} s, max {row.LagMax:0.0} s; duplicate SIDs {duplicates}"));
        return row.Sent >= expected && duplicates == 0 ? 0 : 1;
    }

    private sealed class Report
    {
        public long Sent { get; set; }

        public double SpanSeconds { get; set; }

        public double LagP50 { get; set; }

        public double LagP99 { get; set; }

        public double LagMax { get; set; }
    }
}
