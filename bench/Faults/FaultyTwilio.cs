using System.Collections.Concurrent;
using System.Diagnostics;

namespace RappelRdv.Bench.Faults;

/// <summary>
/// Twilio's Messages and Calls APIs with faults set over <c>POST /faults</c> (form fields, each optional):
/// <c>failPercent</c> of creates answer 500 without taking the message; <c>timeoutPercent</c> take it and
/// answer only after <c>timeoutSeconds</c> (past the Worker's request timeout); <c>listFailSeconds</c>:
/// every list answers 500 for that long; <c>listHiddenSeconds</c>: what is taken is not listed for that
/// long (Twilio holding it queued); <c>refuseFirstCallTo</c> (numbers, comma-separated): the next call to
/// each is answered 500 without being placed. <c>GET /records</c> is everything it took, <c>GET /attempts</c> the
/// time of every create it answered or timed out (Unix ms, failures included). Loopback only.
/// </summary>
internal static class FaultyTwilio
{
    public sealed record Received(string Sid, string To, string? Body, string Kind, long AtUnixMs);

    private sealed class Faults
    {
        public int FailPercent;
        public int TimeoutPercent;
        public double TimeoutSeconds = 5;
        public double ListFailUntil;
        public double ListHiddenUntil;
        public readonly ConcurrentDictionary<string, bool> RefuseFirstCallTo = new();
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var received = new ConcurrentQueue<Received>();
        var attempts = new ConcurrentQueue<long>();
        var clock = Stopwatch.StartNew();
        var sequence = 0L;
        var faults = new Faults();

        app.MapPost("/faults", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            double Number(string name, double fallback) => double.TryParse(form[name], System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : fallback;
            var now = clock.Elapsed.TotalSeconds;
            faults.FailPercent = (int)Number("failPercent", faults.FailPercent);
            faults.TimeoutPercent = (int)Number("timeoutPercent", faults.TimeoutPercent);
            faults.TimeoutSeconds = Number("timeoutSeconds", faults.TimeoutSeconds);
            if (form.ContainsKey("listFailSeconds"))
            {
                faults.ListFailUntil = now + Number("listFailSeconds", 0);
            }

            foreach (var to in form["refuseFirstCallTo"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                faults.RefuseFirstCallTo[to] = true;
            }

            if (form.ContainsKey("listHiddenSeconds"))
            {
                faults.ListHiddenUntil = now + Number("listHiddenSeconds", 0);
            }

            return Results.Ok();
        });

        async Task<IResult> Create(HttpRequest request, string account, string kind)
        {
            var form = await request.ReadFormAsync();
            attempts.Enqueue(TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
            var roll = Random.Shared.Next(100);
            if (kind == "call" && faults.RefuseFirstCallTo.TryRemove(form["To"].ToString(), out _))
            {
                return Results.Json(new { code = 20500, message = "simulated 500, call not placed", status = 500 }, statusCode: 500);
            }

            if (roll < faults.FailPercent)
            {
                return Results.Json(new { code = 20500, message = "simulated 500", status = 500 }, statusCode: 500);
            }

            var sid = $"{(kind == "call" ? "CA" : "SM")}{Interlocked.Increment(ref sequence):D32}";
            var to = form["To"].ToString();
            received.Enqueue(new Received(sid, to, kind == "sms" ? form["Body"].ToString() : null, kind, TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()));
            if (roll < faults.FailPercent + faults.TimeoutPercent)
            {
                // Taken, but the answer comes after the Worker gave up on it.
                await Task.Delay(TimeSpan.FromSeconds(faults.TimeoutSeconds));
            }

            return Results.Json(
                new Dictionary<string, object?>
                {
                    ["sid"] = sid, ["account_sid"] = account, ["to"] = to, ["status"] = "queued", ["num_segments"] = "1",
                    ["body"] = form["Body"].ToString(), ["direction"] = "outbound-api",
                },
                statusCode: StatusCodes.Status201Created);
        }

        IResult List(string? to, string kind, string property)
        {
            var now = clock.Elapsed.TotalSeconds;
            if (now < faults.ListFailUntil)
            {
                return Results.Json(new { code = 20500, message = "simulated 500 on the list", status = 500 }, statusCode: 500);
            }

            var shown = now < faults.ListHiddenUntil ? [] : received.Where(r => r.To == to && r.Kind == kind).ToArray();
            return Results.Json(new Dictionary<string, object?>
            {
                [property] = shown.Select(r => new Dictionary<string, object?>
                {
                    ["sid"] = r.Sid, ["to"] = r.To, ["body"] = r.Body, ["status"] = "queued", ["date_sent"] = null,
                    // When it was taken, as Twilio dates it (to the second): the Worker matches only what was
                    // created while its send could have been at Twilio.
                    ["date_created"] = DateTimeOffset.FromUnixTimeMilliseconds(r.AtUnixMs).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                }).ToArray(),
                ["next_page_uri"] = null, ["page"] = 0, ["page_size"] = 50, ["uri"] = "", ["first_page_uri"] = "",
            });
        }

        app.MapPost("/2010-04-01/Accounts/{account}/Messages.json", (HttpRequest request, string account) => Create(request, account, "sms"));
        app.MapPost("/2010-04-01/Accounts/{account}/Calls.json", (HttpRequest request, string account) => Create(request, account, "call"));
        app.MapGet("/2010-04-01/Accounts/{account}/Messages.json", (string? to) => List(to, "sms", "messages"));
        app.MapGet("/2010-04-01/Accounts/{account}/Calls.json", (string? to) => List(to, "call", "calls"));
        app.MapGet("/records", () => Results.Json(received.ToArray()));
        app.MapGet("/attempts", () => Results.Json(attempts.ToArray()));
        app.MapGet("/count", () => received.Count);
        await app.RunAsync();
        return 0;
    }
}
