extern alias worker;

using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Trace;
using RappelRdv.Reminders.Logging;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.TestSupport;
using Serilog.Core;
using Dispatcher = worker::RappelRdv.Worker.Dispatch.Dispatcher;
using EventDelivery = worker::RappelRdv.Worker.Events.EventDelivery;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>
/// Traces as an operator's collector receives them: the Api and the Worker each with OpenTelemetry's
/// in-memory exporter where the OTLP one would be, everything else as the hosts register it
/// (<see cref="RappelTelemetry"/>). Listeners of <see cref="ActivitySource"/>s hear the whole process,
/// so each list may hold the other host's spans too (and other tests'): the assertions look for
/// spans by their ids. A request's server span can end just after its client has read the answer: each
/// test waits for it before its host goes (<see cref="ServerSpanEndedAsync"/>). A span may still be stopped
/// on another thread while a test reads a list, so the lists take spans under a lock and are read through
/// a copy (<see cref="Spans"/>).
/// </summary>
public sealed class TracingTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    // An external id a phone-number check mistakes for one: it is in the PUT's path, which a span records.
    private const string ExternalId = "rdv_0612345678";

    private readonly Spans apiSpans = new();
    private readonly Spans workerSpans = new();
    private readonly LogLines apiLog = new();

    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The Api host of the harness, recording every span into <see cref="apiSpans"/>.</summary>
    private WebApplicationFactory<Program> TracedApi() => e2e.Api.WithWebHostBuilder(builder =>
    {
        builder.ConfigureServices(services => services.AddSingleton<ILogEventSink>(apiLog).ConfigureOpenTelemetryTracerProvider(tracing =>
            tracing.SetSampler(new AlwaysOnSampler()).AddInMemoryExporter(apiSpans)));
    });

    /// <summary>The harness's Worker services with the Worker's tracing, recording every span into <see cref="workerSpans"/>.</summary>
    private ServiceProvider TracedWorker()
    {
        var services = e2e.BuildWorkerServices((services, configuration) => services
            .AddRappelTelemetry(configuration, RappelTelemetry.WorkerService)
            .ConfigureOpenTelemetryTracerProvider(tracing => tracing.SetSampler(new AlwaysOnSampler()).AddInMemoryExporter(workerSpans)));
        // A host builds it when it starts; these services have no host.
        _ = services.GetRequiredService<TracerProvider>();
        return services;
    }

    /// <summary>
    /// A <c>traceparent</c> header for a request of this test, and its trace: the request's server span
    /// continues it, which tells it from the requests other tests make meanwhile.
    /// </summary>
    private static (ActivityTraceId Trace, string Header) Caller()
    {
        var trace = ActivityTraceId.CreateRandom();
        return (trace, $"00-{trace.ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
    }

    private static HttpClient Agenda(WebApplicationFactory<Program> api, string key, string traceparent)
    {
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        client.DefaultRequestHeaders.Add("traceparent", traceparent);
        return client;
    }

    private async Task PutAsync(HttpClient agenda)
    {
        var response = await agenda.PutAsJsonAsync($"/v1/appointments/{ExternalId}", new
        {
            startsAt = e2e.Api.Clock.GetUtcNow().AddHours(20).ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture),
            citizen = new { phone = "06 12 34 56 78", channel = "sms" },
            service = "RSA",
        });
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
    }

    private static Activity ServerSpan(IEnumerable<Activity> spans, ActivityTraceId trace, string method, string route) =>
        Assert.Single(spans, s => s.Kind == ActivityKind.Server && s.TraceId == trace && (string?)s.GetTagItem("http.request.method") == method
            && (string?)s.GetTagItem("http.route") == route);

    /// <summary>
    /// Waits until the request of this trace has its server span: ASP.NET Core ends it as the request's
    /// pipeline ends, which can be just after its client has read the answer. Waited for before the host,
    /// and its exporter, go: a span that ends after them is never exported.
    /// </summary>
    private static async Task ServerSpanEndedAsync(IEnumerable<Activity> spans, ActivityTraceId trace) =>
        Assert.True(
            await Eventually.ValueAsync(() => Task.FromResult(spans.Any(s => s.Kind == ActivityKind.Server && s.TraceId == trace)), ended => ended, TimeSpan.FromSeconds(10)),
            "the request's server span did not end within 10 s");

    private static bool LinksTo(Activity span, Activity planner) =>
        span.Links.Any(l => l.Context.TraceId == planner.TraceId && l.Context.SpanId == planner.SpanId);

    /// <summary>No tag, no name of any span of these traces looks like a phone number.</summary>
    private static void NoPhoneIn(IEnumerable<Activity> spans, params ActivityTraceId[] traces)
    {
        var ofTraces = spans.Where(s => traces.Contains(s.TraceId)).ToList();
        Assert.NotEmpty(ofTraces);
        // Each tag's value on its own, as the masking processor reads it (a message id is a whole GUID, never a phone).
        var leaks = ofTraces
            .SelectMany(s => s.TagObjects
                .Where(t => PhoneMaskingEnricher.LooksLikePhone(Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? ""))
                .Select(t => $"{s.DisplayName}: {t.Key}={t.Value}")
                .Concat(PhoneMaskingEnricher.LooksLikePhone(s.DisplayName) ? [s.DisplayName] : []))
            .ToList();
        Assert.Empty(leaks);
    }

    [Fact]
    public async Task A_PUT_its_send_and_the_Twilio_request_are_tied_together()
    {
        var (_, keys) = await e2e.TenantAsync("traced");
        const string PutLogged = "\"RequestMethod\":\"PUT\"";
        string logged;
        var (trace, traceparent) = Caller();
        await using (var api = TracedApi())
        {
            await PutAsync(Agenda(api, keys.ApiKey, traceparent));
            logged = (await apiLog.WaitForAsync(PutLogged)).Split('\n').Single(l => l.Contains(PutLogged, StringComparison.Ordinal));
            await ServerSpanEndedAsync(apiSpans, trace);
        }

        var put = ServerSpan(apiSpans, trace, "PUT", "/v1/appointments/{externalId}/");
        // The request's own log line carries its trace (Serilog's @tr), as any line written during it.
        Assert.Equal(put.TraceId.ToHexString(), JsonDocument.Parse(logged).RootElement.GetProperty("@tr").GetString());

        // The creation was written by the batch writer, in a span of its own linked to the PUT.
        Assert.Single(apiSpans, s => s.DisplayName == "write creations" && LinksTo(s, put));
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        var (messageId, planned) = await connection.QuerySingleAsync<(Guid, string?)>("select id, traceparent from messages");
        Assert.Equal(put.Id, planned);

        e2e.Api.Clock.Advance(TimeSpan.FromHours(1));
        await using (var worker = TracedWorker())
        {
            Assert.Equal(1, await worker.GetRequiredService<Dispatcher>().DispatchDueAsync(CancellationToken.None));
        }

        Assert.Single(e2e.Twilio.Messages);
        var send = Assert.Single(workerSpans, s => s.Source.Name == RappelTelemetry.SourceName && (string?)s.GetTagItem("rappel.message.id") == messageId.ToString());
        Assert.Equal("send sms", send.DisplayName);
        Assert.True(LinksTo(send, put), "the send links to the PUT that planned it");
        Assert.Equal(await connection.QuerySingleAsync<long>("select id from tenants where slug = 'traced'"), send.GetTagItem("rappel.tenant.id"));
        var twilio = Assert.Single(workerSpans, s => s.Kind == ActivityKind.Client && s.ParentSpanId == send.SpanId
            && ((string?)s.GetTagItem("url.full"))?.Contains("/Messages.json", StringComparison.Ordinal) == true);
        Assert.Equal(send.TraceId, twilio.TraceId);
        Assert.Equal("POST", twilio.GetTagItem("http.request.method"));
        // The send's SQL is in its trace; SQL outside any span (the loops' polls) is never exported.
        Assert.Contains(workerSpans, s => s.Source.Name == "Npgsql" && s.TraceId == send.TraceId);
        Assert.DoesNotContain(apiSpans.Concat(workerSpans), s => s.Source.Name == "Npgsql" && s.ParentSpanId == default);
        NoPhoneIn(apiSpans.Concat(workerSpans), put.TraceId, send.TraceId);
    }

    [Fact]
    public async Task An_event_is_delivered_in_a_span_linked_to_the_request_that_caused_it()
    {
        var (agenda, _) = await e2e.TenantAsync("traced-events");
        await e2e.PutAppointmentAsync(agenda, "rdv-events", e2e.Api.Clock.GetUtcNow().AddHours(20));
        Assert.Equal(1, await e2e.DispatchAsync());

        var (trace, traceparent) = Caller();
        await using (var api = TracedApi())
        {
            var form = new Dictionary<string, string>
            {
                ["From"] = "+33612345678",
                ["To"] = "+33700000000",
                ["Body"] = "OUI",
                ["MessageSid"] = "SM" + Guid.NewGuid().ToString("N"),
                ["AccountSid"] = FakeTwilio.AccountSid,
            };
            using var request = TwilioSigner.SignedPost(EndToEndHarness.PublicBaseUrl, "/twilio/sms/inbound", form);
            request.Headers.Add("traceparent", traceparent);
            var response = await api.CreateClient().SendAsync(request);
            response.EnsureSuccessStatusCode();
            await ServerSpanEndedAsync(apiSpans, trace);
        }

        var reply = ServerSpan(apiSpans, trace, "POST", "/twilio/sms/inbound");
        await using (var worker = TracedWorker())
        {
            Assert.Equal(1, await worker.GetRequiredService<EventDelivery>().DeliverDueAsync(CancellationToken.None));
        }

        Assert.Single(e2e.AgendaCalls);
        var delivery = Assert.Single(workerSpans, s => s.Source.Name == RappelTelemetry.SourceName && s.DisplayName == "deliver event" && LinksTo(s, reply));
        Assert.Single(workerSpans, s => s.Kind == ActivityKind.Client && s.ParentSpanId == delivery.SpanId
            && (string?)s.GetTagItem("http.request.method") == "POST");
        NoPhoneIn(apiSpans.Concat(workerSpans), reply.TraceId, delivery.TraceId);
    }

    /// <summary>
    /// The exporter's collection, safe to add to from any thread while a test reads it: enumerating it
    /// walks a copy taken under the lock.
    /// </summary>
    private sealed class Spans : ICollection<Activity>
    {
        private readonly List<Activity> spans = [];

        public int Count
        {
            get { lock (spans) { return spans.Count; } }
        }

        public bool IsReadOnly => false;

        public void Add(Activity item)
        {
            lock (spans) { spans.Add(item); }
        }

        public void Clear()
        {
            lock (spans) { spans.Clear(); }
        }

        public bool Contains(Activity item)
        {
            lock (spans) { return spans.Contains(item); }
        }

        public void CopyTo(Activity[] array, int arrayIndex)
        {
            lock (spans) { spans.CopyTo(array, arrayIndex); }
        }

        public bool Remove(Activity item)
        {
            lock (spans) { return spans.Remove(item); }
        }

        public IEnumerator<Activity> GetEnumerator()
        {
            Activity[] copy;
            lock (spans) { copy = [.. spans]; }
            return ((IEnumerable<Activity>)copy).GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
