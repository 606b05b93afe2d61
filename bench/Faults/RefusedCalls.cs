using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using RappelRdv.Bench.ScaleOut;

namespace RappelRdv.Bench.Faults;

/// <summary>
/// <c>refused-calls</c> (contract §9.1): one citizen has two calls due together (two appointments),
/// another one call; Twilio answers 500 to the first call to each without placing it. Within
/// <c>timeout</c> seconds (6 min) each citizen must have exactly the calls it is owed, each once,
/// each message with a SID of its own.
/// </summary>
internal static class RefusedCalls
{
    public static async Task<int> RunAsync(Arguments arguments)
    {
        var timeout = TimeSpan.FromSeconds(arguments.Int("timeout", 360));
        const string twice = "0123000001", once = "0123000002";
        using var twilio = new HttpClient { BaseAddress = new Uri(arguments.Required("twilio")) };
        using var refuse = await twilio.PostAsync("/faults", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["refuseFirstCallTo"] = $"+33{twice[1..]},+33{once[1..]}",
        }));
        refuse.EnsureSuccessStatusCode();

        using var api = new HttpClient { BaseAddress = new Uri(arguments.Required("api")), Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", arguments.Required("key"));
        var startsAt = TimeProvider.System.GetUtcNow().AddHours(20).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var watch = Stopwatch.StartNew();
        foreach (var (id, phone) in new[] { ("c-twice-1", twice), ("c-twice-2", twice), ("c-once", once) })
        {
            using var put = await api.PutAsJsonAsync($"/v1/appointments/{id}", new
            {
                startsAt, durationMinutes = 30, citizen = new { phone, firstName = "Awa", lastName = "Diallo", channel = "voice" },
                service = "RSA", location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon" },
            });
            put.EnsureSuccessStatusCode();
        }

        await using var db = NpgsqlDataSource.Create(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")!);
        long sent = 0;
        while (watch.Elapsed < timeout)
        {
            await using var connection = await db.OpenConnectionAsync();
            sent = await connection.ExecuteScalarAsync<long>(
                """
                select count(*) from messages m join appointments a on a.id = m.appointment_id
                where a.external_id like 'c-%' and m.status in ('sent', 'delivered') and m.direction = 'out'
                """);
            if (sent == 3)
            {
                break;
            }

            await Task.Delay(1000);
        }

        var took = watch.Elapsed;
        // A little longer: a second call would come late.
        await Task.Delay(TimeSpan.FromSeconds(20));
        var records = (await twilio.GetFromJsonAsync<FaultyTwilio.Received[]>("/records", new JsonSerializerOptions(JsonSerializerDefaults.Web)))!;
        var toTwice = records.Count(r => r.Kind == "call" && r.To == $"+33{twice[1..]}");
        var toOnce = records.Count(r => r.Kind == "call" && r.To == $"+33{once[1..]}");
        await using var read = await db.OpenConnectionAsync();
        var sids = await read.ExecuteScalarAsync<long>(
            "select count(distinct m.provider_id) from messages m join appointments a on a.id = m.appointment_id where a.external_id like 'c-%'");
        Console.WriteLine($"  calls placed: {toTwice} to the citizen owed two, {toOnce} to the citizen owed one; messages sent {sent} of 3, " +
            $"distinct SIDs {sids}; all sent {(sent == 3 ? $"after {took.TotalSeconds:F0} s" : $"not within {timeout.TotalSeconds:F0} s")}");
        var ok = sent == 3 && toTwice == 2 && toOnce == 1 && sids == 3;
        Console.WriteLine($"lost {3 - sent}, duplicated {Math.Max(0, toTwice - 2) + Math.Max(0, toOnce - 1)}, recovered in {(ok ? $"{took.TotalSeconds:F0}" : "-")} s");
        return ok ? 0 : 1;
    }
}
