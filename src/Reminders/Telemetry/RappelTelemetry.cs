using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RappelRdv.Reminders.Logging;

namespace RappelRdv.Reminders.Telemetry;

/// <summary>
/// Traces, for both hosts (docs/OPERATIONS.md, "Traces"): the Api's requests (the Api adds ASP.NET
/// Core's instrumentation), every HTTP call out (Twilio, agendas, RDV-Solidarités), every PostgreSQL
/// command (its SQL, never its parameters) and this product's own spans (<see cref="SourceName"/>): a
/// send, an event's delivery, a write-back. The metrics stay prometheus-net's <c>/metrics</c>.
/// <para>
/// Nothing is recorded unless something exports: without <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (nor
/// <c>OTEL_TRACES_SAMPLER</c>) the sampler is always-off, so that a request or a send only carries its
/// trace id (the log lines have it) and pays for no tags, no events and no export.
/// </para>
/// </summary>
public static class RappelTelemetry
{
    /// <summary>The product's own spans: sends, event deliveries, write-backs.</summary>
    public const string SourceName = "RappelRdv";

    public const string ApiService = "rappel-api";

    public const string WorkerService = "rappel-worker";

    /// <summary>Where spans go (OTLP, gRPC by default, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> to change); unset, nothing is exported.</summary>
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>OpenTelemetry's own setting of the sampler (<c>parentbased_traceidratio</c>…), read by the SDK when set.</summary>
    public const string SamplerKey = "OTEL_TRACES_SAMPLER";

    public const string ServiceNameKey = "OTEL_SERVICE_NAME";

    public static readonly ActivitySource Source = new(SourceName);

    /// <param name="serviceName">The resource's <c>service.name</c> unless <c>OTEL_SERVICE_NAME</c> names another.</param>
    /// <param name="hostTracing">What only this host traces (the Api's requests).</param>
    public static IHostApplicationBuilder AddRappelTelemetry(
        this IHostApplicationBuilder builder, string serviceName, Action<TracerProviderBuilder>? hostTracing = null)
    {
        builder.Services.AddRappelTelemetry(builder.Configuration, serviceName, hostTracing);
        return builder;
    }

    /// <summary>
    /// The same without a host builder (the tests' Worker services): the tracer provider is then built
    /// when it is first resolved rather than when a host starts.
    /// </summary>
    public static IServiceCollection AddRappelTelemetry(
        this IServiceCollection services, IConfiguration configuration, string serviceName, Action<TracerProviderBuilder>? hostTracing = null)
    {
        var exporting = Exports(configuration);
        var sampled = !string.IsNullOrWhiteSpace(configuration[SamplerKey]);
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration[ServiceNameKey] is { Length: > 0 } named ? named : serviceName))
            .WithTracing(tracing =>
            {
                hostTracing?.Invoke(tracing);
                tracing.AddSource(SourceName)
                    .AddHttpClientInstrumentation(o => o.RecordException = false)
                    .AddNpgsql()
                    // Before any exporter: what leaves the process is already masked, and filtered.
                    .AddProcessor(new PhoneMaskingProcessor())
                    .AddProcessor(new UnparentedQueriesDropped());
                if (!exporting && !sampled)
                {
                    // Nothing would read what is recorded: a root span only carries its ids (for the logs), nothing below it is created.
                    tracing.SetSampler(new AlwaysOffSampler());
                }

                if (exporting)
                {
                    // OTEL_EXPORTER_OTLP_ENDPOINT, _PROTOCOL, _HEADERS… are read by the exporter itself.
                    tracing.AddOtlpExporter();
                }
            });
        return services;
    }

    /// <summary>Whether spans are exported: <see cref="OtlpEndpointKey"/> is set (environment or configuration).</summary>
    public static bool Exports(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[OtlpEndpointKey]);

    /// <summary>
    /// The W3C <c>traceparent</c> of the span being recorded now (a request, a send), kept with the rows
    /// it writes for later work (a message's send, an event's delivery) to link back to; null when
    /// nothing is recorded, so that an untraced Api stores nothing.
    /// </summary>
    public static string? CurrentTraceparent() =>
        Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } activity ? activity.Id : null;

    /// <summary>
    /// A span for work that a row planned earlier (a send, an event's delivery, a write-back): its own
    /// trace, a <em>link</em> to the span that wrote the row (<paramref name="plannedBy"/>, its
    /// <c>traceparent</c>), as OpenTelemetry's messaging conventions do for a consumer. Its own trace, not
    /// a child of the request's: a send comes hours or days later, and a trace that lasts days is one
    /// that collectors and tail samplers see as never complete. Null when nothing listens.
    /// </summary>
    public static Activity? StartProcessing(string name, string? plannedBy, params ReadOnlySpan<(string Key, object? Value)> tags) =>
        StartBatch(name, plannedBy is null ? [] : [plannedBy], tags);

    /// <summary>The same for work that several spans planned (a batch of creations): a link to each.</summary>
    public static Activity? StartBatch(string name, IEnumerable<string?> plannedBy, params ReadOnlySpan<(string Key, object? Value)> tags)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        List<ActivityLink>? links = null;
        foreach (var traceparent in plannedBy)
        {
            if (traceparent is not null && ActivityContext.TryParse(traceparent, null, out var planned))
            {
                (links ??= []).Add(new ActivityLink(planned));
            }
        }

        var activity = Source.StartActivity(name, ActivityKind.Consumer, parentContext: default, links: links);
        if (activity is { IsAllDataRequested: true })
        {
            foreach (var (key, value) in tags)
            {
                activity.SetTag(key, value);
            }
        }

        return activity;
    }

    /// <summary>
    /// A PostgreSQL command outside any span is not exported: the loops' claims and polls (each idle loop
    /// asks every second) and Hangfire's own queries would drown the rest. Those inside a request, a send or
    /// a delivery are kept. (Clearing <c>Recorded</c> is how a processor keeps a span from the exporters after it.)
    /// </summary>
    private sealed class UnparentedQueriesDropped : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            if (data.ParentSpanId == default && data.Source.Name == "Npgsql")
            {
                data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }
        }
    }

    /// <summary>
    /// The last line of defence for phone numbers in traces, as <see cref="PhoneMaskingEnricher"/> is for
    /// logs: a tag that looks like a phone number (a path naming an external id made of <c>rdv_</c> and a mobile number,
    /// a URL, a statement's text) is masked when its span ends, before any exporter sees it. Only recorded
    /// spans reach it.
    /// </summary>
    private sealed class PhoneMaskingProcessor : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            List<KeyValuePair<string, string>>? masked = null;
            foreach (var (key, value) in data.TagObjects)
            {
                if (value is string text && PhoneMaskingEnricher.LooksLikePhone(text))
                {
                    (masked ??= []).Add(KeyValuePair.Create(key, PhoneMaskingEnricher.MaskText(text)));
                }
            }

            foreach (var (key, text) in masked ?? [])
            {
                data.SetTag(key, text);
            }

            if (PhoneMaskingEnricher.LooksLikePhone(data.DisplayName))
            {
                data.DisplayName = PhoneMaskingEnricher.MaskText(data.DisplayName);
            }
        }
    }
}
