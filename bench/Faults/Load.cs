using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;
using RappelRdv.Bench.ScaleOut;

namespace RappelRdv.Bench.Faults;

/// <summary>What the agendas do during a fault: create appointments, one by one or in a flood.</summary>
internal static class Load
{
    public static async Task<int> TenantAsync(Arguments arguments)
    {
        using var http = new HttpClient { BaseAddress = new Uri(arguments.Required("api")), Timeout = TimeSpan.FromSeconds(30) };
        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/tenants")
        {
            // One reminder (P1D), already due for an appointment 20 hours away; no notices.
            Content = JsonContent.Create(new
            {
                slug = $"faults-{Guid.NewGuid():N}"[..14], name = "Pannes", timeZone = "Europe/Paris",
                reminders = new[] { new { channel = "sms", before = "P1D" } },
                quietHours = (object?)null, notifyOnCreate = false, notifyOnChange = false, notifyOnCancel = false, holdoutPercent = 0,
            }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", arguments.Required("admin-key"));
        using var created = await http.SendAsync(create);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            Console.Error.WriteLine($"Creating the tenant failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            return 1;
        }

        Console.WriteLine((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString());
        return 0;
    }

    private static object Appointment(int i, bool call) => new
    {
        startsAt = TimeProvider.System.GetUtcNow().AddHours(20).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        durationMinutes = 30,
        // Each appointment its own number: a second message to a number is a duplicate.
        citizen = new { phone = (call ? "01" : "06") + i.ToString("D8", CultureInfo.InvariantCulture), firstName = "Awa", lastName = "Diallo", channel = call ? "voice" : "sms" },
        service = "RSA",
        location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon" },
    };

    public static async Task<int> AppointmentsAsync(Arguments arguments)
    {
        var count = arguments.Int("count", 2000);
        var callsEvery = arguments.Int("calls-every", 0);
        using var http = Client(arguments);
        var failed = 0;
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, token) =>
        {
            using var response = await http.PutAsJsonAsync($"/v1/appointments/f-{i}", Appointment(i, callsEvery > 0 && i % callsEvery == 0), token);
            if (!response.IsSuccessStatusCode)
            {
                Interlocked.Increment(ref failed);
            }
        });
        Console.WriteLine($"loaded {count - failed} appointments ({failed} refused)");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// <c>clients</c> agendas PUT new appointments for <c>seconds</c>; then every appointment that was
    /// answered 2xx must be in the database.
    /// </summary>
    public static async Task<int> FloodAsync(Arguments arguments)
    {
        var clients = arguments.Int("clients", 64);
        var seconds = arguments.Int("seconds", 40);
        using var http = Client(arguments);
        var stored = new ConcurrentQueue<string>();
        int unavailable = 0, withRetryAfter = 0, other = 0, errors = 0;
        var end = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        await Parallel.ForAsync(0, clients, new ParallelOptions { MaxDegreeOfParallelism = clients }, async (client, token) =>
        {
            for (var n = 0; TimeProvider.System.GetUtcNow() < end; n++)
            {
                var id = $"flood-{client}-{n}";
                try
                {
                    using var response = await http.PutAsJsonAsync($"/v1/appointments/{id}", Appointment(client * 100_000 + n, call: false), token);
                    if (response.IsSuccessStatusCode)
                    {
                        stored.Enqueue(id);
                    }
                    else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Interlocked.Increment(ref unavailable);
                        if (response.Headers.RetryAfter?.Delta is { } delay)
                        {
                            Interlocked.Increment(ref withRetryAfter);
                            // As a well-behaved agenda does (bounded: the flood ends on time).
                            await Task.Delay(TimeSpan.FromSeconds(Math.Min(delay.TotalSeconds, 1)), token);
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref other);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        });

        await using var db = NpgsqlDataSource.Create(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")!);
        await using var connection = await db.OpenConnectionAsync();
        var ids = stored.ToArray();
        var found = await connection.ExecuteScalarAsync<long>("select count(*) from appointments where external_id = any(@ids)", new { ids });
        Console.WriteLine($"2xx {ids.Length} (stored {found}), 503 {unavailable} (with Retry-After {withRetryAfter}), other {other}, no answer {errors}");
        Console.WriteLine($"lost {ids.Length - found}, duplicated 0, recovered in - s");
        return found == ids.Length ? 0 : 1;
    }

    private static HttpClient Client(Arguments arguments)
    {
        var http = new HttpClient { BaseAddress = new Uri(arguments.Required("api")), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", arguments.Required("key"));
        return http;
    }
}
