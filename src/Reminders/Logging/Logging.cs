using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace RappelRdv.Reminders.Logging;

public static class Logging
{
    /// <summary>Serilog for a host: compact JSON on stdout, phone numbers masked in every property.</summary>
    public static void UseRappelLogging(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSerilog((services, configuration) =>
        {
            // Defaults first; the Serilog section of the configuration (Serilog__MinimumLevel=Warning…) overrides them.
            configuration
                .MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("System.Net.Http.HttpClient", LogEventLevel.Warning)
                .MinimumLevel.Override("Hangfire", LogEventLevel.Warning)
                .ReadFrom.Configuration(builder.Configuration)
                .Enrich.FromLogContext()
                .Enrich.With<PhoneMaskingEnricher>()
                .WriteTo.Console(new CompactJsonFormatter());
            // Logging:FilePath adds a JSON file of the same lines (used by the tests that read real log output).
            if (builder.Configuration["Logging:FilePath"] is { Length: > 0 } path)
            {
                configuration.WriteTo.File(new CompactJsonFormatter(), path, buffered: false);
            }
        }, preserveStaticLogger: true);
    }
}

/// <summary>
/// The last line of defence for personal data in logs: any property value that looks like a
/// phone number (French or E.164, whatever the spacing) is masked before any sink sees it.
/// Code never logs a number in clear on purpose; this catches what slips through (a bad
/// input echoed in an exception, a query string).
/// </summary>
public sealed partial class PhoneMaskingEnricher : ILogEventEnricher
{
    [GeneratedRegex(@"(?<![\w])(?:\+|00)?\d(?:[\s.\-]?\(?\d\)?){8,14}(?![\w])")]
    private static partial Regex PhoneLike();

    public static string MaskText(string text) =>
        PhoneLike().Replace(text, m => Phones.FrenchPhone.Mask(new string([.. m.Value.Where(char.IsDigit)])));

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        foreach (var (name, value) in logEvent.Properties.ToArray())
        {
            var masked = Mask(value);
            if (!ReferenceEquals(masked, value))
            {
                logEvent.AddOrUpdateProperty(new LogEventProperty(name, masked));
            }
        }
    }

    private static LogEventPropertyValue Mask(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string text } when PhoneLike().IsMatch(text) => new ScalarValue(MaskText(text)),
        SequenceValue sequence => sequence.Elements.Select(Mask).ToArray() is var items && items.Where((v, i) => !ReferenceEquals(v, sequence.Elements[i])).Any()
            ? new SequenceValue(items)
            : value,
        StructureValue structure => structure.Properties.Any(p => !ReferenceEquals(Mask(p.Value), p.Value))
            ? new StructureValue(structure.Properties.Select(p => new LogEventProperty(p.Name, Mask(p.Value))), structure.TypeTag)
            : value,
        _ => value,
    };
}
