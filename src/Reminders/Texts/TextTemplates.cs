using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using RappelRdv.Reminders.Appointments;

namespace RappelRdv.Reminders.Texts;

/// <summary>The values of a template's placeholders; each Add returns a new set, so a base can be shared.</summary>
internal sealed class TemplateValues
{
    private readonly ImmutableDictionary<string, string?> values;

    public TemplateValues()
        : this(ImmutableDictionary<string, string?>.Empty.WithComparers(StringComparer.Ordinal))
    {
    }

    private TemplateValues(ImmutableDictionary<string, string?> values) => this.values = values;

    public TemplateValues Add(string name, string? value) => new(values.SetItem(name, value));

    public string? this[string name] => values.GetValueOrDefault(name);
}

/// <summary>A problem of a tenant's template, named by the path of its field.</summary>
public sealed record TemplateProblem(string Field, string Problem);

/// <summary>One template filled with a long realistic example, as the preview shows it.</summary>
public sealed record TemplatePreview(string Language, string Kind, string Text, int Segments, string Encoding);

/// <summary>
/// A département's own SMS templates: how they are filled, checked when the tenant is written,
/// and previewed. Placeholders: {service}, {day} ("mardi 3 décembre"), {time} ("9h30"), {place}.
/// </summary>
public static partial class TextTemplates
{
    public static readonly string[] Placeholders = ["service", "day", "time", "place"];

    public const int MaxLength = 1000;

    /// <summary>The worst case a template must fit in two segments with (the contract's figures).</summary>
    public const int WorstServiceLength = 30;

    public const int WorstPlaceLength = 60;

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex Placeholder();

    // A placeholder left empty leaves punctuation behind: "à 9h30, , est annulé", "9h30, .", "(9:30, )".
    [GeneratedRegex(@"[,،]\s*[,،]")]
    private static partial Regex EmptyBetweenCommas();

    [GeneratedRegex(@"[,،]\s*([.)])")]
    private static partial Regex CommaBeforeStop();

    [GeneratedRegex(@"\s+([,.،)])")]
    private static partial Regex SpaceBeforePunctuation();

    [GeneratedRegex(@"\(\s*\)")]
    private static partial Regex EmptyParentheses();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    /// <summary>
    /// The template with its placeholders replaced (an unknown or empty one by nothing), the
    /// punctuation an empty value leaves behind tidied, and, in a Latin-script language, GSM-7.
    /// </summary>
    internal static string Fill(string template, TemplateValues values, bool latin, bool tidy = true)
    {
        var text = Placeholder().Replace(template, m => values[m.Groups[1].Value] ?? "");
        if (tidy)
        {
            text = EmptyBetweenCommas().Replace(text, " ");
            text = CommaBeforeStop().Replace(text, "$1");
            text = SpaceBeforePunctuation().Replace(text, "$1");
            text = EmptyParentheses().Replace(text, "");
        }

        text = Whitespace().Replace(text, " ").Trim();
        return latin ? Gsm7.Transliterate(text) : text;
    }

    /// <summary>
    /// What is wrong with a tenant's template: an unknown placeholder, a character that would
    /// force UCS-2 in a Latin-script language, or a length over two segments in the worst case
    /// (a 30-character service, a 60-character place, the longest day and time).
    /// </summary>
    public static IEnumerable<TemplateProblem> Check(string field, string language, string? template)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            yield return new TemplateProblem(field, "Must be a non-empty text.");
            yield break;
        }

        if (template.Length > MaxLength)
        {
            yield return new TemplateProblem(field, $"At most {MaxLength} characters.");
            yield break;
        }

        var unknown = Placeholder().Matches(template).Select(m => m.Groups[1].Value).Where(p => !Placeholders.Contains(p)).Distinct().ToList();
        if (unknown.Count > 0)
        {
            yield return new TemplateProblem(field,
                $"Unknown placeholder {string.Join(", ", unknown.Select(p => "{" + p + "}"))}: use {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}.");
            yield break;
        }

        var texts = BuiltInTexts.For(language);
        if (texts.Language.LatinScript
            && template.EnumerateRunes().Where(r => !r.IsBmp || !Gsm7.HasGsmSpelling((char)r.Value)).Select(r => (Rune?)r).FirstOrDefault() is { } bad)
        {
            yield return new TemplateProblem(field,
                $"'{bad}' (U+{bad.Value:X4}) has no GSM-7 spelling: it would force UCS-2, three times the cost of an SMS in '{language}'.");
            yield break;
        }

        var worst = Fill(template, WorstCase(texts), texts.Language.LatinScript);
        if (Gsm7.Segments(worst) > SmsTexts.MaxSegments)
        {
            yield return new TemplateProblem(field,
                $"Too long: with a {WorstServiceLength}-character service and a {WorstPlaceLength}-character place it takes "
                + $"{Gsm7.Segments(worst)} segments ({(Gsm7.IsGsm7(worst) ? Gsm7.Septets(worst) + " GSM-7 characters" : worst.Length + " UCS-2 characters")}); at most {SmsTexts.MaxSegments}.");
        }
    }

    /// <summary>Each template filled with a long realistic example, and its segment count.</summary>
    public static TemplatePreview Preview(string language, string kind, string? template)
    {
        var texts = BuiltInTexts.For(language);
        var ctx = new MessageContext(
            "Accompagnement RSA - orientation", new DateTimeOffset(2026, 9, 30, 12, 30, 0, TimeSpan.Zero),
            TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"), Modes.InPerson,
            "Maison départementale des solidarités de Saint-Étienne-du-Rouvray",
            "Résidence Les Cèdres, bâtiment C, 17 avenue du Maréchal de Lattre de Tassigny, 76800 Saint-Étienne-du-Rouvray",
            "02 35 00 00 00",
            texts.Language.Code,
            template is null ? null : new Dictionary<string, string> { [kind] = template });
        var text = SmsTexts.For(kind, ctx);
        return new TemplatePreview(texts.Language.Code, kind, text, Gsm7.Segments(text), Gsm7.IsGsm7(text) ? "GSM-7" : "UCS-2");
    }

    private static TemplateValues WorstCase(LanguageTexts texts)
    {
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var days = Enumerable.Range(0, 366).Select(d => new DateTimeOffset(2027, 1, 1, 11, 30, 0, TimeSpan.Zero).AddDays(d));
        var longestDay = days.Select(d => LocalDates.Day(texts.Language.Code, d, paris)).MaxBy(d => d.Length)!;
        var time = LocalDates.Time(texts.Language.Code, new DateTimeOffset(2027, 1, 1, 11, 30, 0, TimeSpan.Zero), paris);
        return new TemplateValues()
            .Add("service", new string('x', WorstServiceLength))
            .Add("day", longestDay)
            .Add("time", time)
            .Add("place", new string('x', WorstPlaceLength));
    }
}
