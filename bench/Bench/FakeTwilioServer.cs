using System.Globalization;

namespace RappelRdv.Bench;

/// <summary>
/// Twilio's Messages endpoint on loopback, answering after a fixed latency with a fresh SID.
/// Asynchronous, so that thousands of concurrent requests do not need thousands of threads.
/// </summary>
internal static class FakeTwilioServer
{
    public static async Task<int> RunAsync(string[] args)
    {
        var port = Args.Int(args, "port", 5099);
        var latency = TimeSpan.FromMilliseconds(Args.Int(args, "latency-ms", 50));
        var lifetime = TimeSpan.FromSeconds(Args.Int(args, "seconds", 900));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        long sequence = 0;
        app.MapPost("/2010-04-01/Accounts/{account}/Messages.json", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            await Task.Delay(latency);
            var sid = "SM" + Interlocked.Increment(ref sequence).ToString("D32", CultureInfo.InvariantCulture);
            return Results.Json(new { sid, status = "queued", to = form["To"].ToString(), num_segments = "1" }, statusCode: 201);
        });
        app.MapGet("/2010-04-01/Accounts/{account}/Messages.json", () => Results.Json(new { messages = Array.Empty<object>() }));
        app.MapGet("/count", () => Interlocked.Read(ref sequence));
        using var stop = new CancellationTokenSource(lifetime);
        await app.RunAsync(stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        return 0;
    }
}
