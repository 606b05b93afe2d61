using System.Collections.Concurrent;
using System.Diagnostics;

namespace RappelRdv.Bench.ScaleOut;

/// <summary>
/// Twilio's Messages API as far as the Workers use it: a create answers 201 with a fresh SID, the
/// list (used to reconcile sends of unknown outcome, and those of a killed Worker) shows what was accepted,
/// with its creation time. Every create is
/// recorded; <c>GET /records</c> hands them to the driver. Loopback only.
/// </summary>
internal static class FakeTwilio
{
    public sealed record Received(string Sid, string To, string Body, double AtSeconds, string DateCreated);

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var received = new ConcurrentQueue<Received>();
        var clock = Stopwatch.StartNew();
        var sequence = 0L;

        app.MapPost("/2010-04-01/Accounts/{account}/Messages.json", async (HttpRequest request, string account) =>
        {
            var form = await request.ReadFormAsync();
            var sid = $"SM{Interlocked.Increment(ref sequence):D32}";
            var to = form["To"].ToString();
            var body = form["Body"].ToString();
            // Twilio's own format (RFC 1123, to the second): recovery keeps a listed message only if it was created
            // while its send could have been at Twilio.
            var created = TimeProvider.System.GetUtcNow().ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            received.Enqueue(new Received(sid, to, body, clock.Elapsed.TotalSeconds, created));
            return Results.Json(
                new Dictionary<string, object?>
                {
                    ["sid"] = sid, ["account_sid"] = account, ["to"] = to, ["from"] = form["From"].ToString(), ["body"] = body,
                    ["status"] = "queued", ["num_segments"] = "1", ["direction"] = "outbound-api", ["date_created"] = created,
                },
                statusCode: StatusCodes.Status201Created);
        });
        app.MapGet("/2010-04-01/Accounts/{account}/Messages.json", (string? to) => Results.Json(new Dictionary<string, object?>
        {
            ["messages"] = received.Where(r => r.To == to).Select(r => new Dictionary<string, object?> { ["sid"] = r.Sid, ["to"] = r.To, ["body"] = r.Body, ["date_created"] = r.DateCreated })
                .ToArray(),
            ["next_page_uri"] = null, ["page"] = 0, ["page_size"] = 50, ["uri"] = "", ["first_page_uri"] = "",
        }));
        app.MapGet("/records", () => Results.Json(received.ToArray()));
        app.MapGet("/count", () => received.Count);
        await app.RunAsync();
        return 0;
    }
}
