using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.TestSupport;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;

namespace RappelRdv.Api.Tests;

/// <summary>What <see cref="RappelTelemetry"/> registers, with and without <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
public sealed class TelemetrySetupTests
{
    private static ServiceProvider Services(Dictionary<string, string?> settings, out IServiceCollection services)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddRappelTelemetry(configuration, RappelTelemetry.WorkerService);
        return services.BuildServiceProvider();
    }

    /// <summary>Whether any registration is the OTLP exporter's (its options, its factory, its client).</summary>
    private static bool HasOtlpExporter(IServiceCollection services)
    {
        var otlp = typeof(OtlpExporterOptions).Assembly;
        return services.Any(d => new[] { d.ServiceType, d.ImplementationType, d.ImplementationInstance?.GetType() }
            .Where(t => t is not null)
            .Any(t => t!.Assembly == otlp || t.GenericTypeArguments.Any(a => a.Assembly == otlp)));
    }

    /// <summary>The provider's sampler (the SDK keeps it internal; this is what its own tests read).</summary>
    private static Sampler? SamplerOf(TracerProvider provider) =>
        provider.GetType().GetProperty("Sampler", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(provider) as Sampler;

    [Fact]
    public async Task Without_an_endpoint_nothing_is_exported_and_nothing_recorded()
    {
        await using var provider = Services([], out var services);
        var tracer = provider.GetRequiredService<TracerProvider>();

        Assert.False(HasOtlpExporter(services));
        Assert.IsType<AlwaysOffSampler>(SamplerOf(tracer));
    }

    [Fact]
    public async Task OTEL_TRACES_SAMPLER_is_left_to_the_SDK()
    {
        await using var provider = Services(new() { [RappelTelemetry.SamplerKey] = "always_on" }, out var services);

        Assert.False(HasOtlpExporter(services));
        Assert.IsType<AlwaysOnSampler>(SamplerOf(provider.GetRequiredService<TracerProvider>()));
    }

    [Fact]
    public async Task With_an_endpoint_spans_go_to_it_over_OTLP()
    {
        using var collector = WireMockServer.Start();
        collector.Given(Request.Create().WithPath("/v1/traces").UsingPost()).RespondWith(Response.Create().WithStatusCode(200));
        await using var provider = Services(new()
        {
            [RappelTelemetry.OtlpEndpointKey] = collector.Url,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            [RappelTelemetry.ServiceNameKey] = "rappel-worker-eu",
        }, out var services);
        var tracer = provider.GetRequiredService<TracerProvider>();
        Assert.True(HasOtlpExporter(services));
        Assert.IsType<ParentBasedSampler>(SamplerOf(tracer));

        using (RappelTelemetry.StartProcessing("send sms", plannedBy: null, ("rappel.message.id", "m-1")))
        {
        }

        Assert.True(tracer.ForceFlush(30_000));
        // What reached the collector, every request's protobuf as its strings stand in it (other tests' spans may be there too).
        var text = await Eventually.ValueAsync(
            () => Task.FromResult(string.Concat(collector.LogEntries.Select(e => System.Text.Encoding.UTF8.GetString(e.RequestMessage.BodyAsBytes ?? [])))),
            posted => posted.Contains("send sms", StringComparison.Ordinal));
        Assert.Contains("send sms", text, StringComparison.Ordinal);
        Assert.Contains("rappel-worker-eu", text, StringComparison.Ordinal);
    }
}
