using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace RappelRdv.Reminders.Texts;

/// <summary>Shorter spellings of what an agenda sends, for an SMS that must fit two segments.</summary>
internal static partial class PlaceShortening
{
    /// <summary>
    /// What an agenda sent, ready for a sentence: line breaks of a copied address become
    /// commas, whitespace is collapsed, pictographs (emoji) are dropped; blank is null.
    /// </summary>
    public static string? Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var withoutPictographs = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            // From U+2000 on, symbols are pictographs and dingbats; "n°" and "€" come before.
            var pictograph = (rune.Value >= 0x2000 && Rune.GetUnicodeCategory(rune) is UnicodeCategory.OtherSymbol)
                || (rune.Value >= 0x1F000 && !Rune.IsLetterOrDigit(rune))
                || rune.Value is 0xFE0F or 0x200D;
            if (!pictograph)
            {
                withoutPictographs.Append(rune.ToString());
            }
        }

        var cleaned = Whitespace().Replace(LineBreaks().Replace(withoutPictographs.ToString().Trim(), ", "), " ").Trim();
        return cleaned.Length == 0 ? null : cleaned;
    }

    /// <summary>
    /// The postal abbreviations everyone reads on envelopes ("av.", "bd", "St-"), and
    /// without what only routes mail (BP, CS, CEDEX): nothing a visitor needs is lost.
    /// </summary>
    public static string AbbreviateAddress(string address)
    {
        var parts = MailRouting().Replace(Abbreviate(address, AddressWords), " ")
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return Whitespace().Replace(string.Join(", ", parts), " ");
    }

    /// <summary>The acronyms the départements put on their own doors: MDS, CMS, CCAS…</summary>
    public static string AbbreviateName(string name) => Abbreviate(name, NameWords);

    /// <summary>
    /// Shorter and shorter forms of an address: without the complements that French
    /// addresses put first (building, residence), then without postcode, then the town alone.
    /// </summary>
    public static IEnumerable<string> ShorterAddresses(string address)
    {
        var parts = address.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        while (parts.Count > 2)
        {
            parts.RemoveAt(0);
            yield return string.Join(", ", parts);
        }

        var withoutPostcode = Clean(Postcode().Replace(string.Join(", ", parts), " "))?.Trim(',', ' ');
        if (!string.IsNullOrEmpty(withoutPostcode))
        {
            yield return withoutPostcode;
            var town = withoutPostcode.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (town.Length > 1)
            {
                yield return town[^1];
            }
        }
    }

    /// <summary>The service with fewer and fewer of its words, marked as cut.</summary>
    public static IEnumerable<string> ShorterServices(string service)
    {
        var words = service.Split(' ');
        for (var count = words.Length - 1; count > 0; count--)
        {
            yield return string.Join(' ', words[..count]).TrimEnd(',', ';', ':', '-', '–', '—', '(') + "…";
        }
    }

    // Postal abbreviations (AFNOR NF Z 10-011) people read every day on envelopes.
    private static readonly (Regex Pattern, string Abbreviation)[] AddressWords =
    [
        (Word("avenue"), "av."), (Word("boulevard"), "bd"), (Word("place"), "pl."), (Word("chemin"), "ch."),
        (Word("route"), "rte"), (Word("all[ée]e"), "all."), (Word("impasse"), "imp."), (Word("square"), "sq."),
        (Word("r[ée]sidence"), "rés."), (Word("b[âa]timent"), "bât."), (Word("faubourg"), "fg"),
        (Word("lieu-dit"), "ld"), (Word("zone industrielle"), "ZI"), (Word("zone artisanale"), "ZA"),
        (Word("zone d['’]activit[ée]s?"), "ZA"), (Word("centre commercial"), "CC"),
        (Word("docteur"), "Dr"), (Word("g[ée]n[ée]ral"), "Gal"), (Word("mar[ée]chal"), "Mal"),
        (Word("pr[ée]sident"), "Pdt"), (Word("saint(?=[- ])"), "St"), (Word("sainte(?=[- ])"), "Ste"),
    ];

    // Acronyms the départements themselves put on their doors.
    private static readonly (Regex Pattern, string Abbreviation)[] NameWords =
    [
        (Word("maison d[ée]partementale (des|de la) solidarit[ée]s?"), "MDS"),
        (Word("espace d[ée]partemental (des|de la) solidarit[ée]s?"), "EDS"),
        (Word("centre m[ée]dico-social"), "CMS"),
        (Word("centre communal d['’]action sociale"), "CCAS"),
        (Word("centre intercommunal d['’]action sociale"), "CIAS"),
        (Word("centre d[ée]partemental d['’]action sociale"), "CDAS"),
        (Word("unit[ée] territoriale d['’]action sociale"), "UTAS"),
        (Word("unit[ée] territoriale sociale"), "UTS"),
        (Word("protection maternelle et infantile"), "PMI"),
        (Word("saint(?=[- ])"), "St"), (Word("sainte(?=[- ])"), "Ste"),
    ];

    private static Regex Word(string pattern) =>
        new($@"(?<![\p{{L}}])(?:{pattern})(?![\p{{L}}])", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static string Abbreviate(string text, (Regex Pattern, string Abbreviation)[] words)
    {
        foreach (var (pattern, abbreviation) in words)
        {
            // "Avenue" at the start of a line stays capitalised: "Av.".
            text = pattern.Replace(text, match => char.IsUpper(match.Value[0]) && char.IsLower(abbreviation[0])
                ? char.ToUpperInvariant(abbreviation[0]) + abbreviation[1..]
                : abbreviation);
        }

        return text;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"\s*[\r\n\u2028\u2029]+\s*")]
    private static partial Regex LineBreaks();

    [GeneratedRegex(@"\b\d{5}\b")]
    private static partial Regex Postcode();

    // "CEDEX 9", "BP 123", "CS 20001", "TSA 10001": what routes mail, not what guides a visitor.
    [GeneratedRegex(@"\b(cedex( \d+)?|bp \d+|cs \d+|tsa \d+)\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MailRouting();
}
