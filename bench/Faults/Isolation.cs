using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using RappelRdv.Bench.ScaleOut;

namespace RappelRdv.Bench.Faults;

/// <summary>
/// <c>isolation</c>, the scenario of contract §9.7: a slow tenant whose webhook points at an agenda
/// endpoint (served here, on loopback) that answers a <c>200</c> head, then one byte every
/// <c>drip-seconds</c> (for <c>stall-minutes</c> at most), while its citizens confirm one every 2 s;
/// meanwhile the other tenant (the one <c>tenant</c> created) gets <c>waves</c> waves of
/// <c>wave-size</c> reminders due at once, <c>wave-seconds</c> apart. Prints, per wave, the p95 of
/// the time from the creation to the send; the reminders lost; and how long the Worker held a
/// connection to the stalling endpoint at most. Every loop is bounded.
/// </summary>
internal static class Isolation
{
    private sealed class Agenda
    {
        public readonly ConcurrentQueue<double> Held = new();
        public int Open;
        public int Requests;
    }

    public static async Task<int> RunAsync(Arguments arguments)
    {
        var api = arguments.Required("api");
        var adminKey = arguments.Required("admin-key");
        var otherKey = arguments.Required("key");
        var authToken = arguments.Required("twilio-token");
        var publicBaseUrl = arguments.Required("public-base-url");
        var agendaPort = arguments.Int("agenda-port", 5399);
        var drip = TimeSpan.FromSeconds(arguments.Int("drip-seconds", 5));
        var stallFor = TimeSpan.FromMinutes(arguments.Int("stall-minutes", 10));
        var waves = arguments.Int("waves", 4);
        var waveSize = arguments.Int("wave-size", 50);
        var waveGap = TimeSpan.FromSeconds(arguments.Int("wave-seconds", 90));
        var citizens = arguments.Int("citizens", 300);

        var agenda = new Agenda();
        await using var agendaApp = StallingAgenda(agendaPort, drip, stallFor, agenda);
        await agendaApp.StartAsync();

        using var http = new HttpClient { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(30) };
        var slowKey = await SlowTenantAsync(http, adminKey, $"http://127.0.0.1:{agendaPort}/events");
        // The slow tenant's citizens must have been messaged for their "OUI" to count.
        await PutAllAsync(http, slowKey, Enumerable.Range(0, citizens).Select(i => ($"s-{i}", Phone("075", i))));
        await using var db = NpgsqlDataSource.Create(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")!);
        await WaitSentAsync(db, "s-%", citizens, TimeSpan.FromMinutes(3));
        Console.WriteLine($"  {citizens} citizens of the slow tenant messaged; its agenda now stalls every event");

        // The citizens confirm, one every 2 s, until the last wave has had its time.
        using var replying = new CancellationTokenSource(waves * waveGap + TimeSpan.FromSeconds(30));
        var replies = ReplyAsync(http, authToken, publicBaseUrl, citizens, replying.Token);

        var watch = Stopwatch.StartNew();
        for (var wave = 0; wave < waves; wave++)
        {
            var due = waveGap * wave - watch.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            await PutAllAsync(http, otherKey, Enumerable.Range(0, waveSize).Select(i => ($"w{wave}-{i}", Phone("06", wave * 10_000 + i))));
        }

        await WaitSentAsync(db, "w%", waves * waveSize, TimeSpan.FromMinutes(2));
        var confirmed = await replies;

        await using var connection = await db.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string ExternalId, string Status, double? Seconds)>(
            """
            select a.external_id, m.status, extract(epoch from m.sent_at - m.created_at)::float8
            from messages m join appointments a on a.id = m.appointment_id
            where a.external_id like 'w%' and m.direction = 'out' and m.kind <> 'reply'
            """)).AsList();
        var failed = false;
        for (var wave = 0; wave < waves; wave++)
        {
            var mine = rows.Where(r => r.ExternalId.StartsWith($"w{wave}-", StringComparison.Ordinal)).ToList();
            var sent = mine.Where(r => r.Status is "sent" or "delivered" && r.Seconds is not null).Select(r => r.Seconds!.Value).Order().ToList();
            var p95 = sent.Count > 0 ? sent[Math.Min(sent.Count - 1, (int)Math.Ceiling(sent.Count * 0.95) - 1)] : double.NaN;
            Console.WriteLine($"  wave {wave + 1}: {sent.Count} of {waveSize} sent, p95 {p95:F1} s, max {(sent.Count > 0 ? sent[^1] : double.NaN):F1} s");
            failed |= sent.Count < waveSize || !(p95 <= 30);
        }

        var events = await connection.QuerySingleAsync<(long Pending, long Delivered, long WithError)>(
            """
            select count(*) filter (where e.status = 'pending'), count(*) filter (where e.status = 'delivered'),
                   count(*) filter (where e.last_error is not null)
            from events e join tenants t on t.id = e.tenant_id where t.slug like 'slow-%'
            """);
        // Connections still open count from their start until now.
        var held = agenda.Held.ToArray();
        var maxHeld = held.Length > 0 ? held.Max() : 0;
        Console.WriteLine($"  slow tenant: {confirmed} confirmations, events pending {events.Pending} (with an error {events.WithError}), delivered {events.Delivered}; " +
            $"its agenda got {agenda.Requests} requests, held at most {maxHeld:F1} s each, {Volatile.Read(ref agenda.Open)} open at the end");
        failed |= maxHeld > 30;
        var lost = waves * waveSize - rows.Count(r => r.Status is "sent" or "delivered");
        Console.WriteLine($"lost {lost}, duplicated 0, recovered in - s");
        replying.Cancel();
        return failed ? 1 : 0;
    }

    /// <summary>A French number of ten digits: the prefix, then <paramref name="i"/>.</summary>
    private static string Phone(string prefix, int i) => prefix + i.ToString("D" + (10 - prefix.Length), CultureInfo.InvariantCulture);

    /// <summary>200, Content-Length 1000, then a byte every <paramref name="drip"/>: never a whole answer within <paramref name="stallFor"/>.</summary>
    private static WebApplication StallingAgenda(int port, TimeSpan drip, TimeSpan stallFor, Agenda agenda)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/events", async (HttpContext context) =>
        {
            Interlocked.Increment(ref agenda.Requests);
            Interlocked.Increment(ref agenda.Open);
            var held = Stopwatch.StartNew();
            try
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength = 1000;
                await context.Response.Body.FlushAsync(context.RequestAborted);
                for (var sent = 0; sent < 1000 && held.Elapsed < stallFor; sent++)
                {
                    await Task.Delay(drip, context.RequestAborted);
                    await context.Response.Body.WriteAsync("x"u8.ToArray(), context.RequestAborted);
                    await context.Response.Body.FlushAsync(context.RequestAborted);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException)
            {
                // The Worker hung up: what is measured.
            }
            finally
            {
                agenda.Held.Enqueue(held.Elapsed.TotalSeconds);
                Interlocked.Decrement(ref agenda.Open);
            }
        });
        return app;
    }

    private static async Task<string> SlowTenantAsync(HttpClient http, string adminKey, string webhookUrl)
    {
        using var create = new HttpRequestMessage(HttpMethod.Post, "/v1/admin/tenants")
        {
            Content = JsonContent.Create(new
            {
                slug = $"slow-{Guid.NewGuid():N}"[..14], name = "Lent", timeZone = "Europe/Paris",
                reminders = new[] { new { channel = "sms", before = "P1D" } },
                quietHours = (object?)null, notifyOnCreate = false, notifyOnChange = false, notifyOnCancel = false, holdoutPercent = 0,
                webhook = new { url = webhookUrl },
            }),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var created = await http.SendAsync(create);
        if (created.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"Creating the slow tenant failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }

        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("apiKey").GetString()!;
    }

    private static async Task PutAllAsync(HttpClient http, string key, IEnumerable<(string Id, string Phone)> appointments)
    {
        var startsAt = TimeProvider.System.GetUtcNow().AddHours(20).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        await Parallel.ForEachAsync(appointments, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (a, token) =>
        {
            using var put = new HttpRequestMessage(HttpMethod.Put, $"/v1/appointments/{a.Id}")
            {
                Content = JsonContent.Create(new
                {
                    startsAt, durationMinutes = 30, citizen = new { phone = a.Phone, firstName = "Awa", lastName = "Diallo", channel = "sms" },
                    service = "RSA", location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon" },
                }),
            };
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(put, token);
            response.EnsureSuccessStatusCode();
        });
    }

    private static async Task WaitSentAsync(NpgsqlDataSource db, string like, int count, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            await using var connection = await db.OpenConnectionAsync();
            if (await connection.ExecuteScalarAsync<long>(
                    """
                    select count(*) from messages m join appointments a on a.id = m.appointment_id
                    where a.external_id like @like and m.status in ('sent', 'delivered') and m.kind <> 'reply' and m.direction = 'out'
                    """, new { like }) >= count)
            {
                return;
            }

            await Task.Delay(500);
        }
    }

    /// <summary>Citizen i answers "OUI" by SMS, one every 2 s, signed as Twilio signs. Returns how many were answered 200.</summary>
    private static async Task<int> ReplyAsync(HttpClient http, string authToken, string publicBaseUrl, int citizens, CancellationToken stop)
    {
        var answered = 0;
        for (var i = 0; i < citizens && !stop.IsCancellationRequested; i++)
        {
            var form = new Dictionary<string, string>
            {
                ["From"] = "+33" + Phone("075", i)[1..], ["To"] = "+33700000000", ["Body"] = "OUI", ["MessageSid"] = $"SMreply{i:D26}",
            };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/twilio/sms/inbound") { Content = new FormUrlEncodedContent(form) };
            request.Headers.Add("X-Twilio-Signature", Sign(authToken, publicBaseUrl.TrimEnd('/') + "/twilio/sms/inbound", form));
            try
            {
                using var response = await http.SendAsync(request, stop);
                answered += response.IsSuccessStatusCode ? 1 : 0;
                await Task.Delay(TimeSpan.FromSeconds(2), stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return answered;
    }

    private static string Sign(string authToken, string url, Dictionary<string, string> form)
    {
        var data = new StringBuilder(url);
        foreach (var key in form.Keys.Order(StringComparer.Ordinal))
        {
            data.Append(key).Append(form[key]);
        }

        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }
}
