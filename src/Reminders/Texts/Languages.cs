using System.Text.RegularExpressions;

namespace RappelRdv.Reminders.Texts;

/// <summary>
/// The languages a citizen can be written to and called in, each with the Twilio voice that
/// speaks it. Voices are among those Twilio lists for &lt;Say&gt;: Amazon Polly where it has one,
/// Google for Arabic (Polly's Zeina speaks the "arb" code, which Twilio's Gather does not take).
/// </summary>
public sealed record Language(
    string Code,
    bool LatinScript,
    string SayLanguage,
    string SayVoice,
    string GatherLanguage,
    string EspeakVoice);

public static partial class Languages
{
    public const string French = "fr";

    public static readonly Language Fr = new("fr", true, "fr-FR", "Polly.Lea", "fr-FR", "fr");
    public static readonly Language En = new("en", true, "en-GB", "Polly.Amy", "en-GB", "en-gb");
    public static readonly Language Es = new("es", true, "es-ES", "Polly.Lucia", "es-ES", "es");
    public static readonly Language Pt = new("pt", true, "pt-PT", "Polly.Ines", "pt-PT", "pt");
    public static readonly Language Tr = new("tr", true, "tr-TR", "Polly.Filiz", "tr-TR", "tr");
    public static readonly Language Ar = new("ar", false, "ar-XA", "Google.ar-XA-Standard-A", "ar-MA", "ar");

    public static readonly IReadOnlyList<Language> All = [Fr, En, Es, Pt, Tr, Ar];

    public static readonly IReadOnlyList<string> Codes = [.. All.Select(l => l.Code)];

    [GeneratedRegex("^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]
    private static partial Regex Bcp47();

    /// <summary>
    /// The supported primary tag of a BCP 47 tag ("pt-BR" is "pt"), or null when the tag is
    /// malformed or its language is not one we write in.
    /// </summary>
    public static string? Supported(string? tag)
    {
        if (tag is null || tag.Length > 35 || !Bcp47().IsMatch(tag))
        {
            return null;
        }

        var primary = tag.Split('-')[0].ToLowerInvariant();
        return Codes.Contains(primary) ? primary : null;
    }

    /// <summary>The language of a stored code; French for anything unknown (a row written before languages).</summary>
    public static Language Of(string? code) => All.FirstOrDefault(l => l.Code == code) ?? Fr;
}
