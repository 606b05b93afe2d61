using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace RappelRdv.Bench.ScaleOut;

/// <summary>
/// Creates a tenant, pushes appointments over every Api whose SMS reminder is due at once, waits
/// until the fake Twilio has them all (or the timeout), then checks that each was sent exactly once:
/// what Twilio received against the messages table. Exit code 0 only when nothing was lost or doubled.
/// </summary>
internal static class Driver
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var apis = arguments.Required("apis").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(u => new Uri(u)).ToArray();
        var twilio = new Uri(arguments.Required("twilio"));
        var adminKey = arguments.Required("admin-key");
        var count = arguments.Int("count", 5000);
        var timeout = TimeSpan.FromSeconds(arguments.Int("timeout", 900));
        var concurrency = arguments.Int("concurrency", 16);
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var api in apis)
        {
            await WaitReadyAsync(http, new Uri(api, "/health/ready"), TimeSpan.FromSeconds(90));
        }

        await WaitReadyAsync(http, new Uri(twilio, "/count"), TimeSpan.FromSeconds(30));

        // One tenant whose single reminder (P1D) is already due for an appointment 20 hours away.
        var slug = $"bench-{Guid.NewGuid():N}"[..14];
        using var create = new HttpRequestMessage(HttpMethod.Post, new Uri(apis[0], "/v1/admin/tenants"))
        {
            Content = JsonContent.Create(new
            {
                slug, name = "Banc d'essai", timeZone = "Europe/Paris",
                reminders = new[] { new { channel = "sms", before = "P1D" } },
                quietHours = (object?)null, notifyOnCreate = false, notifyOnChange = false, notifyOnCancel = false, holdoutPercent = 0,
            }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var created = await http.SendAsync(create);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            Console.Error.WriteLine($"Creating the tenant failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            return 1;
        }

        var apiKey = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
        var startsAt = TimeProvider.System.GetUtcNow().AddHours(20).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

        Console.WriteLine($"Pushing {count} appointments over {apis.Length} Apis ({concurrency} at a time), startsAt {startsAt}...");
        var total = Stopwatch.StartNew();
        var failures = 0;
        var perApi = new int[apis.Length];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, token) =>
        {
            var api = apis[i % apis.Length];
            using var put = new HttpRequestMessage(HttpMethod.Put, new Uri(api, $"/v1/appointments/bench-{i}"))
            {
                Content = JsonContent.Create(new
                {
                    startsAt,
                    durationMinutes = 30,
                    citizen = new { phone = Phone(i), firstName = "Awa", lastName = "Diallo", channel = "sms" },
                    service = "RSA",
                    location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon" },
                }),
            };
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(put, token);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                Interlocked.Increment(ref failures);
                Console.Error.WriteLine($"PUT bench-{i} on {api}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(token)}");
            }
            else
            {
                Interlocked.Increment(ref perApi[i % apis.Length]);
            }
        });
        var pushed = total.Elapsed;
        Console.WriteLine($"Pushed in {pushed.TotalSeconds:F1} s ({count / pushed.TotalSeconds:F0} appointments/s); per Api: {string.Join(", ", perApi)}; failed: {failures}");

        // Wait until the database says all were sent (and Twilio has them), bounded.
        await using var db = NpgsqlDataSource.Create(connectionString);
        var tenantId = await ScalarAsync<long>(db, "select id from tenants where slug = @slug", new { slug });
        long sent = 0, received = 0;
        var deadline = total.Elapsed + timeout;
        while (total.Elapsed < deadline)
        {
            try
            {
                sent = await ScalarAsync<long>(db, "select count(*) from messages where tenant_id = @tenantId and status in ('sent', 'delivered')", new { tenantId });
                received = long.Parse(await http.GetStringAsync(new Uri(twilio, "/count")), CultureInfo.InvariantCulture);
            }
            catch (NpgsqlException e)
            {
                // The watcher must not be what fails: report it and look again.
                Console.Write($"\r  {total.Elapsed.TotalSeconds,6:F0} s: database busy ({e.Message})   ");
            }

            Console.Write($"\r  {total.Elapsed.TotalSeconds,6:F0} s: sent {sent}/{count} (Twilio received {received})   ");
            if (sent >= count && received >= count)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
        }

        Console.WriteLine();
        var allSent = total.Elapsed;
        // A little longer: a duplicate would arrive late.
        await Task.Delay(TimeSpan.FromSeconds(5));

        var records = (await http.GetFromJsonAsync<FakeTwilio.Received[]>(new Uri(twilio, "/records"), Json))!;
        await using var connection = await db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string Status, string? ProviderId, string? Phone)>(
            """
            select m.status, m.provider_id, a.phone from messages m join appointments a on a.id = m.appointment_id
            where m.tenant_id = @tenantId and m.kind = 'reminder'
            """,
            new { tenantId })).AsList();

        var problems = new List<string>();
        if (failures > 0)
        {
            problems.Add($"{failures} appointments were refused by the Api");
        }

        var byStatus = rows.GroupBy(r => r.Status).ToDictionary(g => g.Key, g => g.Count());
        var dbSent = rows.Count(r => r.Status is "sent" or "delivered");
        if (rows.Count != count || dbSent != count)
        {
            problems.Add($"messages table: {rows.Count} reminders, {dbSent} sent, expected {count} ({string.Join(", ", byStatus.Select(s => $"{s.Key} {s.Value}"))})");
        }

        if (records.Length != count)
        {
            problems.Add($"Twilio received {records.Length} messages, expected {count}");
        }

        var duplicateTo = records.GroupBy(r => r.To).Count(g => g.Count() > 1);
        var duplicateToBody = records.GroupBy(r => (r.To, r.Body)).Count(g => g.Count() > 1);
        if (duplicateTo > 0 || duplicateToBody > 0)
        {
            problems.Add($"duplicates at Twilio: {duplicateTo} numbers got more than one SMS ({duplicateToBody} identical To+Body)");
        }

        var twilioSids = records.Select(r => r.Sid).ToHashSet(StringComparer.Ordinal);
        var dbSids = rows.Where(r => r.ProviderId is not null).Select(r => r.ProviderId!).ToHashSet(StringComparer.Ordinal);
        if (!twilioSids.SetEquals(dbSids))
        {
            problems.Add($"SIDs differ: {twilioSids.Except(dbSids).Count()} at Twilio only, {dbSids.Except(twilioSids).Count()} in the database only");
        }

        var expectedPhones = Enumerable.Range(0, count).Select(i => "+33" + Phone(i)[1..]).ToHashSet(StringComparer.Ordinal);
        var lost = expectedPhones.Except(records.Select(r => r.To)).Count();
        if (lost > 0)
        {
            problems.Add($"{lost} citizens got no SMS");
        }

        var first = records.Length > 0 ? records.Min(r => r.AtSeconds) : 0;
        var last = records.Length > 0 ? records.Max(r => r.AtSeconds) : 0;
        Console.WriteLine($"Sent {records.Length} SMS in {allSent.TotalSeconds:F1} s from the first PUT; first to last send {last - first:F1} s ({records.Length / Math.Max(0.001, last - first):F0} SMS/s)");
        Console.WriteLine($"Twilio: {records.Length} requests, {records.Select(r => r.To).Distinct().Count()} distinct numbers, {duplicateToBody} duplicate To+Body");
        Console.WriteLine($"Database: {string.Join(", ", byStatus.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}"))}; {dbSids.Count} distinct SIDs, matching Twilio's: {twilioSids.SetEquals(dbSids)}");

        if (problems.Count > 0)
        {
            Console.WriteLine("FAILED:");
            problems.ForEach(p => Console.WriteLine($"  - {p}"));
            return 1;
        }

        Console.WriteLine($"OK: {count} reminders, each sent exactly once.");
        return 0;
    }

    // 06 20 00 00 00, 06 20 00 00 01, ...: distinct French mobiles, one per appointment.
    private static string Phone(int i) => $"06{20_000_000 + i:D8}";

    private static async Task WaitReadyAsync(HttpClient http, Uri url, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(url);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (clock.Elapsed > limit)
            {
                throw new TimeoutException($"{url} did not answer within {limit.TotalSeconds} s");
            }

            await Task.Delay(500);
        }
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlDataSource db, string sql, object parameters)
    {
        await using var connection = await db.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }
}
