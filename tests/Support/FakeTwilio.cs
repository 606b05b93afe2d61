using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace RappelRdv.TestSupport;

/// <summary>
/// Twilio's REST API as WireMock.Net on loopback: it accepts Messages and Calls like Twilio
/// (201 with a fresh SID), keeps what it received, answers the Messages and Calls lists used for
/// reconciliation, and can be told to fail: refuse (<see cref="Failures"/>), take the message and
/// still answer an error (<see cref="FailuresAfterAccepting"/>), hold its answers until the test
/// lets them go (<see cref="HoldAnswers"/>: a timeout, or a request caught in flight), list nothing
/// (<see cref="ListShowsAccepted"/>) or fail its lists (<see cref="ListFailure"/>). No sleeps: what
/// a test waits for, it releases.
/// </summary>
public sealed class FakeTwilio : IDisposable
{
    public const string AccountSid = "ACtest00000000000000000000000000";
    public const string AuthToken = "test-auth-token-0123456789abcdef";

    private readonly ConcurrentQueue<Dictionary<string, string>> messages = new();
    private readonly ConcurrentQueue<Dictionary<string, string>> calls = new();
    private int sequence;

    public FakeTwilio()
    {
        Server = WireMockServer.Start();
        Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Messages.json").UsingPost())
            .RespondWith(Response.Create().WithCallback(request => RespondAsync(request, messages, "SM")));
        Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Calls.json").UsingPost())
            .RespondWith(Response.Create().WithCallback(request => RespondAsync(request, calls, "CA")));
        Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Messages.json").UsingGet())
            .RespondWith(Response.Create().WithCallback(ListMessages));
        Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Calls.json").UsingGet())
            .RespondWith(Response.Create().WithCallback(ListCalls));
        Server.Given(Request.Create().WithPath($"/2010-04-01/Accounts/{AccountSid}/Balance.json").UsingGet())
            .RespondWith(Response.Create().WithCallback(_ =>
                Json(200, new { currency = "EUR", balance = Balance.ToString(System.Globalization.CultureInfo.InvariantCulture), account_sid = AccountSid })));
    }

    /// <summary>What Balance.json answers.</summary>
    public decimal Balance { get; set; } = 100m;

    public WireMockServer Server { get; }

    public string BaseUrl => Server.Url!;

    /// <summary>Answers to give before accepting again: each is (HTTP status, Twilio code).</summary>
    public ConcurrentQueue<(int Status, int Code)> Failures { get; } = new();

    /// <summary>When set, every request fails this way until cleared.</summary>
    public (int Status, int Code)? FailAlways { get; set; }

    /// <summary>Errors to answer after taking the message or call anyway (Twilio acted, its answer says otherwise).</summary>
    public ConcurrentQueue<(int Status, int Code)> FailuresAfterAccepting { get; } = new();

    /// <summary>
    /// When false, the Messages and Calls lists show nothing: a message Twilio never got, or one it
    /// holds queued and does not list yet.
    /// </summary>
    public bool ListShowsAccepted { get; set; } = true;

    /// <summary>Twilio's Message Body Redaction: the Messages list shows every body empty.</summary>
    public bool RedactBodies { get; set; }

    /// <summary>When set, the Messages and Calls lists answer this error.</summary>
    public (int Status, int Code)? ListFailure { get; set; }

    /// <summary>The clock of the service under test: Twilio dates what it creates with it.</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>How many list (GET) requests arrived.</summary>
    public int ListRequests => Volatile.Read(ref listRequests);

    private int listRequests;

    // Completed: answers flow. Pending: each create request waits (at most a minute, without holding a
    // thread: held threads would starve the test's own thread pool) until the test releases it.
    private volatile TaskCompletionSource answering = Answering();

    private static TaskCompletionSource Answering()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }

    /// <summary>Create requests are received but not answered until <see cref="ReleaseAnswers"/>.</summary>
    public void HoldAnswers() => answering = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held answers, and those to come, go.</summary>
    public void ReleaseAnswers() => answering.TrySetResult();

    public IReadOnlyList<Dictionary<string, string>> Messages => [.. messages];

    public IReadOnlyList<Dictionary<string, string>> Calls => [.. calls];

    /// <summary>Forgets what it received and how it was told to fail.</summary>
    public void Reset()
    {
        Server.ResetLogEntries();
        Interlocked.Exchange(ref received, 0);
        messages.Clear();
        calls.Clear();
        Failures.Clear();
        FailuresAfterAccepting.Clear();
        FailAlways = null;
        ListShowsAccepted = true;
        RedactBodies = false;
        ListFailure = null;
        Interlocked.Exchange(ref listRequests, 0);
        ReleaseAnswers();
        Balance = 100m;
    }

    public int RequestCount => Server.LogEntries.Count(e => e.RequestMessage.Method == "POST");

    private int received;

    /// <summary>How many create requests arrived, answered or not (for tests that act while one is in flight).</summary>
    public int Received => Volatile.Read(ref received);

    /// <summary>Waits until at least <paramref name="count"/> create requests have arrived.</summary>
    public Task WaitForRequestsAsync(int count, TimeSpan? timeout = null) =>
        Eventually.UntilAsync(() => Received >= count, () => $"Twilio received {Received} requests, not {count}", timeout);

    private async Task<IResponseMessage> RespondAsync(IRequestMessage request, ConcurrentQueue<Dictionary<string, string>> store, string prefix)
    {
        Interlocked.Increment(ref received);
        try
        {
            await answering.Task.WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            // Bounded: a test that forgot to release still ends.
        }

        if (FailAlways is { } always || Failures.TryDequeue(out always))
        {
            return Error(always);
        }

        var form = ParseForm(request.Body ?? "");
        var sid = $"{prefix}{Interlocked.Increment(ref sequence):D32}";
        form["Sid"] = sid;
        form["DateCreated"] = Clock.GetUtcNow().ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        store.Enqueue(form);
        if (FailuresAfterAccepting.TryDequeue(out var after))
        {
            return Error(after);
        }

        return Json(201, new { sid, status = "queued", to = form.GetValueOrDefault("To"), body = form.GetValueOrDefault("Body"), num_segments = "1" });
    }

    private static ResponseMessage Error((int Status, int Code) error) =>
        Json(error.Status, new { code = error.Code, message = $"simulated error {error.Code}", more_info = "", status = error.Status });

    private ResponseMessage ListMessages(IRequestMessage request)
    {
        Interlocked.Increment(ref listRequests);
        if (ListFailure is { } failure)
        {
            return Error(failure);
        }

        var to = request.Query?.TryGetValue("To", out var values) == true ? values.ToString() : null;
        // Like Twilio, a queued message is listed with an empty date_sent.
        var found = ListShowsAccepted
            ? messages.Where(m => m.GetValueOrDefault("To") == to)
                .Select(m => new { sid = m["Sid"], to = m["To"], body = RedactBodies ? "" : m.GetValueOrDefault("Body"), status = "queued", date_sent = (string?)null, date_created = m["DateCreated"] })
                .ToArray()
            : [];
        return Json(200, new { messages = found, first_page_uri = "", next_page_uri = (string?)null, page = 0, page_size = 50, uri = "" });
    }

    private ResponseMessage ListCalls(IRequestMessage request)
    {
        Interlocked.Increment(ref listRequests);
        if (ListFailure is { } failure)
        {
            return Error(failure);
        }

        var to = request.Query?.TryGetValue("To", out var values) == true ? values.ToString() : null;
        var found = ListShowsAccepted
            ? calls.Where(c => c.GetValueOrDefault("To") == to)
                .Select(c => new { sid = c["Sid"], to = c["To"], status = "queued", start_time = (string?)null, date_created = c["DateCreated"] })
                .ToArray()
            : [];
        return Json(200, new { calls = found, first_page_uri = "", next_page_uri = (string?)null, page = 0, page_size = 20, uri = "" });
    }

    private static Dictionary<string, string> ParseForm(string body) =>
        body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .GroupBy(p => WebUtility.UrlDecode(p[0]))
            .ToDictionary(g => g.Key, g => string.Join(",", g.Select(p => WebUtility.UrlDecode(p.Length > 1 ? p[1] : ""))));

    private static ResponseMessage Json(int status, object body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json") },
        BodyData = new BodyData { BodyAsString = JsonSerializer.Serialize(body), DetectedBodyType = BodyType.String },
    };

    public void Dispose()
    {
        ReleaseAnswers();
        Server.Stop();
    }
}
