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
                .WriteTo.Console(new PhoneMaskingFormatter())
                // Any ILogEventSink registered in the container gets the same events: how the tests read the log,
                // in memory (tests/Support/LogLines.cs formats them with PhoneMaskingFormatter, as stdout does).
                .ReadFrom.Services(services);
        }, preserveStaticLogger: true);
    }
}

/// <summary>
/// The last line of defence for personal data in logs: any property value that looks like a
/// phone number (French or E.164, whatever the spacing, or glued inside an identifier such as
/// <c>rdv_06</c> followed by eight digits), of any type (a number logged as a <c>long</c> too), is masked before
/// any sink sees it. Code never logs a number in clear on purpose; this catches what slips
/// through (a bad input echoed in an exception, a query string, an external id).
/// </summary>
public sealed partial class PhoneMaskingEnricher : ILogEventEnricher
{
    [GeneratedRegex(@"(?<![\w])(?:\+|00)?\d(?:[\s.\-]?\(?\d\)?){8,14}(?![\w])")]
    private static partial Regex PhoneLike();

    /// <summary>A French number with nothing but letters or <c>_</c> around it, in any of its four forms: 0, 33, +33 or 0033 then nine digits.</summary>
    [GeneratedRegex(@"(?<![\d+])(?:\+33|0033|33|0)[1-9]\d{8}(?!\d)")]
    private static partial Regex FrenchNumberInWord();

    /// <summary>
    /// A whole value that is a GUID (a message's id) is never a phone number: about 1 in 110 of our UUIDv7 ids has a
    /// group of digits that the patterns take for one (`…-9601-234567890123`), and masking it hid the id in logs and traces.
    /// </summary>
    public static bool LooksLikePhone(string text) =>
        !(text.Length == 36 && Guid.TryParseExact(text, "D", out _)) && (PhoneLike().IsMatch(text) || FrenchNumberInWord().IsMatch(text));

    public static string MaskText(string text)
    {
        var masked = PhoneLike().Replace(text, m => Phones.FrenchPhone.Mask(new string([.. m.Value.Where(char.IsDigit)])));
        return FrenchNumberInWord().Replace(masked, m => Phones.FrenchPhone.Mask(new string([.. m.Value.Where(char.IsDigit)])));
    }

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

    internal static LogEventPropertyValue Mask(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: null } => value,
        // A measure (a request's Elapsed milliseconds, 23.313232) is never a phone number, whatever its digits.
        ScalarValue { Value: double or float or decimal or TimeSpan } => value,
        // Whatever other type: a number is a long, a Guid or a Uri formatted as text by the sinks.
        ScalarValue scalar when Convert.ToString(scalar.Value, System.Globalization.CultureInfo.InvariantCulture) is { } text && LooksLikePhone(text) =>
            new ScalarValue(MaskText(text)),
        SequenceValue sequence => sequence.Elements.Select(Mask).ToArray() is var items && items.Where((v, i) => !ReferenceEquals(v, sequence.Elements[i])).Any()
            ? new SequenceValue(items)
            : value,
        StructureValue structure => structure.Properties.Any(p => !ReferenceEquals(Mask(p.Value), p.Value))
            ? new StructureValue(structure.Properties.Select(p => new LogEventProperty(p.Name, Mask(p.Value))), structure.TypeTag)
            : value,
        DictionaryValue dictionary => dictionary.Elements.Any(e => !ReferenceEquals(Mask(e.Key), e.Key) || !ReferenceEquals(Mask(e.Value), e.Value))
            ? new DictionaryValue(dictionary.Elements.Select(e => KeyValuePair.Create((ScalarValue)Mask(e.Key), Mask(e.Value))))
            : value,
        _ => value,
    };
}

/// <summary>
/// The JSON lines of every sink, with what an enricher cannot reach masked as well: the message
/// template's own text (a number interpolated into it) and the exception as it is printed:
/// message, inner exceptions and stack trace alike (<c>LogError(e, …)</c> with an exception that
/// quotes a number).
/// </summary>
internal sealed class PhoneMaskingFormatter : Serilog.Formatting.ITextFormatter
{
    private readonly CompactJsonFormatter inner = new();

    private static readonly Serilog.Parsing.MessageTemplateParser Parser = new();

    public void Format(LogEvent logEvent, TextWriter output)
    {
        var template = PhoneMaskingEnricher.LooksLikePhone(logEvent.MessageTemplate.Text)
            ? Parser.Parse(PhoneMaskingEnricher.MaskText(logEvent.MessageTemplate.Text))
            : logEvent.MessageTemplate;
        var exception = logEvent.Exception is { } e ? MaskedException.Of(e) : null;
        if (ReferenceEquals(template, logEvent.MessageTemplate) && ReferenceEquals(exception, logEvent.Exception))
        {
            inner.Format(logEvent, output);
            return;
        }

        inner.Format(new LogEvent(logEvent.Timestamp, logEvent.Level, exception, template,
            logEvent.Properties.Select(p => new LogEventProperty(p.Key, p.Value)), logEvent.TraceId ?? default, logEvent.SpanId ?? default), output);
    }

    /// <summary>Stands for the original when it is written: its text (what the sinks print) masked, its type's name kept.</summary>
    private sealed class MaskedException(string text) : Exception(text)
    {
        public static Exception Of(Exception exception)
        {
            var text = exception.ToString();
            return PhoneMaskingEnricher.LooksLikePhone(text) ? new MaskedException(PhoneMaskingEnricher.MaskText(text)) : exception;
        }

        public override string ToString() => Message;
    }
}
