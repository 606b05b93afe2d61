using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using RappelRdv.Bench.ScaleOut;

namespace RappelRdv.Bench.Faults;

/// <summary>Reads the outcome from PostgreSQL and the fake Twilio; never fails because the database does.</summary>
internal static class Watch
{
    private static NpgsqlDataSource Database() =>
        NpgsqlDataSource.Create(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set"));

    private sealed record Counts(long Sent, long Sending, long Pending, long Failed, long Reconciled);

    private static async Task<Counts?> CountAsync(NpgsqlDataSource db)
    {
        try
        {
            await using var connection = await db.OpenConnectionAsync();
            return await connection.QuerySingleAsync<Counts>(
                """
                select count(*) filter (where status in ('sent', 'delivered')) as sent,
                       count(*) filter (where status = 'sending') as sending,
                       count(*) filter (where status = 'pending') as pending,
                       count(*) filter (where status = 'failed') as failed,
                       count(*) filter (where error like 'reconciled%') as reconciled
                from messages where direction = 'out'
                """);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            return null;
        }
    }

    public static async Task<int> WaitAsync(Arguments arguments)
    {
        var target = arguments.Int("sent", 1);
        var timeout = TimeSpan.FromSeconds(arguments.Int("timeout", 300));
        await using var db = Database();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (await CountAsync(db) is { } counts && counts.Sent >= target)
            {
                return 0;
            }

            await Task.Delay(200);
        }

        Console.Error.WriteLine($"fewer than {target} sent within {timeout}");
        return 1;
    }

    public static async Task<int> ReportAsync(Arguments arguments)
    {
        var count = arguments.Int("count", 2000);
        var timeout = TimeSpan.FromSeconds(arguments.Int("timeout", 300));
        var faultAt = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(arguments.Required("fault-at"), System.Globalization.CultureInfo.InvariantCulture));
        using var http = new HttpClient { BaseAddress = new Uri(arguments.Required("twilio")) };
        await using var db = Database();
        var watch = Stopwatch.StartNew();
        Counts? counts = null;
        while (watch.Elapsed < timeout)
        {
            counts = await CountAsync(db) ?? counts;
            if (counts is { Sending: 0 } && counts.Sent + counts.Failed >= count)
            {
                break;
            }

            await Task.Delay(250);
        }

        var recovered = TimeProvider.System.GetUtcNow() - faultAt;
        // A little longer: a duplicate would arrive late.
        await Task.Delay(TimeSpan.FromSeconds(5));
        counts = await CountAsync(db) ?? counts;
        var records = (await http.GetFromJsonAsync<FaultyTwilio.Received[]>("/records", new JsonSerializerOptions(JsonSerializerDefaults.Web)))!;
        var lost = count - (counts?.Sent ?? 0);
        var duplicated = records.Length - records.Select(r => r.To).Distinct().Count();
        if (arguments.Int("first-pass", 0) > 0)
        {
            // The first pass: each due message is asked for once before any is sent again (a resend
            // waits for the lease at least), so the first `count` creates Twilio saw are that pass.
            // Their pace is the Workers' sending rate under the fault, whatever the start-up took.
            var attempts = (await http.GetFromJsonAsync<long[]>("/attempts"))!.Order().Take(count).ToArray();
            if (attempts.Length > 10)
            {
                // Whole, then without the Workers' start-up and the pass's last stragglers: from its
                // 25 % mark to its 90 % mark, the pace the Workers hold under the fault.
                Console.WriteLine($"  the first {attempts.Length} requests to Twilio: {RateLine(records, attempts, 0, attempts.Length - 1)}; " +
                    $"from the {attempts.Length / 4}th to the {attempts.Length * 9 / 10}th: {RateLine(records, attempts, attempts.Length / 4, attempts.Length * 9 / 10)}");
            }
        }

        Console.WriteLine($"  messages: sent {counts?.Sent}, sending {counts?.Sending}, pending {counts?.Pending}, failed {counts?.Failed}, " +
            $"reconciled after a lease {counts?.Reconciled}; Twilio took {records.Length} ({records.Count(r => r.Kind == "call")} calls)");
        Console.WriteLine(lost == 0
            ? $"lost {lost}, duplicated {duplicated}, recovered in {recovered.TotalSeconds:F0} s"
            : $"lost {lost}, duplicated {duplicated}, recovered in - s (not within {timeout.TotalSeconds:F0} s)");
        return lost == 0 && duplicated == 0 ? 0 : 1;
    }

    private static string RateLine(FaultyTwilio.Received[] records, long[] attempts, int from, int to)
    {
        var seconds = (attempts[to] - attempts[from]) / 1000.0;
        var taken = records.Count(r => r.AtUnixMs >= attempts[from] && r.AtUnixMs <= attempts[to]);
        return $"{(to - from) / seconds:F1} requests/s ({taken / seconds:F1}/s taken by Twilio) over {seconds:F1} s";
    }
}
