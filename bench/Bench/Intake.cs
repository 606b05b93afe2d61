using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;

namespace RappelRdv.Bench;

/// <summary>Pushes N appointments through PUT with C concurrent clients and prints throughput and latency.</summary>
internal static class Intake
{
    public static async Task<int> RunAsync(string[] args)
    {
        var api = Args.Get(args, "api", "http://127.0.0.1:5080");
        var key = Args.Get(args, "key");
        var count = Args.Int(args, "count", 20_000);
        var concurrency = Args.Int(args, "concurrency", 16);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency }) { BaseAddress = new Uri(api), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var run = Guid.NewGuid().ToString("N")[..8];
        var latencies = new double[count];
        var failures = 0;
        var next = -1;
        var start = TimeProvider.System.GetTimestamp();
        var startsAt = TimeProvider.System.GetUtcNow().AddDays(30);

        async Task Client()
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var body = $$"""
                    {"startsAt":"{{startsAt.AddMinutes(i % 5000).ToString("yyyy-MM-ddTHH:mm:00Z", CultureInfo.InvariantCulture)}}","durationMinutes":30,
                     "citizen":{"phone":"06 {{(i / 1_000_000 % 100):D2}} {{(i / 10_000 % 100):D2}} {{(i / 100 % 100):D2}} {{(i % 100):D2}}","firstName":"Awa","lastName":"Diallo"},
                     "service":"RSA","location":{"name":"UTS Toulon Ouest","address":"12 rue Picot, 83000 Toulon"} }
                    """;
                var watch = Stopwatch.StartNew();
                using var response = await http.PutAsync($"/v1/appointments/bench-{run}-{i}", new StringContent(body, Encoding.UTF8, "application/json"));
                latencies[i] = watch.Elapsed.TotalMilliseconds;
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref failures);
                }

                if (i > 0 && i % 5000 == 0)
                {
                    Console.Error.WriteLine($"  {i} / {count}");
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Client)));
        var seconds = TimeProvider.System.GetElapsedTime(start).TotalSeconds;
        var sorted = latencies.Order().ToList();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"intake: {count} PUT, {concurrency} clients, {seconds:0.0} s, {count / seconds:0} upserts/s, p50 {Args.Percentile(sorted, 50):0.0} ms, p95 {Args.Percentile(sorted, 95):0.0} ms, p99 {Args.Percentile(sorted, 99):0.0} ms, failures {failures}"));
        return failures == 0 ? 0 : 1;
    }
}
