using System.Buffers;
using System.Text;

namespace RappelRdv.Reminders.Texts;

/// <summary>The GSM 03.38 alphabet: what an SMS can carry without falling back to UCS-2.</summary>
/// <remarks>
/// One character outside this alphabet makes the whole SMS UCS-2, where a segment holds 70
/// characters instead of 160: the same reminder then costs three or four segments.
/// </remarks>
public static class Gsm7
{
    private const string Basic =
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

    // Sent as an escape and the character: two septets each.
    private const string Extension = "\f^{}\\[~]|€";

    private const int SingleSegmentSeptets = 160;

    // A multipart SMS spends 7 septets of each segment on the concatenation header.
    private const int MultipartSegmentSeptets = 153;

    private const int SingleSegmentUcs2 = 70;
    private const int MultipartSegmentUcs2 = 67;

    private static readonly SearchValues<char> BasicSet = SearchValues.Create(Basic);
    private static readonly SearchValues<char> ExtensionSet = SearchValues.Create(Extension);
    private static readonly SearchValues<char> AllGsm = SearchValues.Create(Basic + Extension);

    // Typographic punctuation that word processors and agendas put in names and addresses.
    private static readonly Dictionary<char, string> Punctuation = new()
    {
        ['’'] = "'", ['‘'] = "'", ['‛'] = "'", ['‚'] = "'", ['′'] = "'", ['`'] = "'", ['´'] = "'",
        ['ʼ'] = "'", ['‹'] = "'", ['›'] = "'",
        ['“'] = "\"", ['”'] = "\"", ['„'] = "\"", ['‟'] = "\"", ['«'] = "\"", ['»'] = "\"", ['″'] = "\"",
        ['…'] = "...",
        ['‐'] = "-", ['‑'] = "-", ['‒'] = "-", ['–'] = "-", ['—'] = "-", ['―'] = "-", ['−'] = "-",
        ['•'] = "-",
        ['·'] = ".", // inclusive writing: "usager·ère·s"
        ['°'] = "o", // "n°" reads "no"
        ['º'] = "o", ['ª'] = "a", ['¹'] = "1", ['²'] = "2", ['³'] = "3", ['×'] = "x", ['÷'] = "/",
    };

    public static bool IsGsm7(string text) => !text.AsSpan().ContainsAnyExcept(AllGsm);

    /// <summary>
    /// Whether <see cref="Transliterate"/> keeps the character or spells it in GSM-7 (an accent
    /// lost, a typographic quote straightened); false for what it would drop (emoji, other scripts).
    /// </summary>
    public static bool HasGsmSpelling(char c) =>
        AllGsm.Contains(c) || char.IsWhiteSpace(c) || LatinLetters.ToAscii(c) is not null || Punctuation.ContainsKey(c);

    /// <summary>
    /// The text with only GSM-7 characters: GSM letters (é, è, à, Ç…) are kept, other
    /// accented letters lose their accent, typographic punctuation becomes its ASCII
    /// look-alike, line breaks become LF, and what has no GSM spelling (emoji…) is dropped.
    /// Runs of spaces are collapsed and the ends trimmed, so a dropped emoji leaves no gap.
    /// </summary>
    public static string Transliterate(string text)
    {
        var result = new StringBuilder(text.Length);
        var afterOpeningGuillemet = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];

            // French puts spaces inside guillemets, English quotes hug the words: « Les Œillets » → "Les OEillets".
            if (afterOpeningGuillemet && char.IsWhiteSpace(c))
            {
                continue;
            }

            afterOpeningGuillemet = c == '«';
            if (c == '»' && result.Length > 0 && result[^1] == ' ')
            {
                result.Length--;
            }

            if (c == '\r')
            {
                Append(result, "\n");
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (c is '\f' or '\v' or '\u0085' or '\u2028' or '\u2029')
            {
                Append(result, "\n");
            }
            else if (c == '\t' || (char.IsWhiteSpace(c) && c != '\n'))
            {
                Append(result, " ");
            }
            else if (BasicSet.Contains(c) || ExtensionSet.Contains(c))
            {
                Append(result, c.ToString());
            }
            else if ((LatinLetters.ToAscii(c) ?? Punctuation.GetValueOrDefault(c)) is { } replacement)
            {
                Append(result, replacement);
            }

            // Anything else (emoji, whose surrogate halves land here, zero-width and control
            // characters, other scripts) has no GSM spelling: dropped.
        }

        return result.ToString().Trim(' ');
    }

    /// <summary>
    /// How many SMS segments the text takes: GSM-7 when it can be, otherwise UCS-2 (which
    /// is what the carrier bills). An empty text is still one SMS.
    /// </summary>
    public static int Segments(string text)
    {
        if (!IsGsm7(text))
        {
            // UTF-16 code units: an emoji takes two, as it does on the air.
            return text.Length <= SingleSegmentUcs2 ? 1 : Ceiling(text.Length, MultipartSegmentUcs2);
        }

        var septets = Septets(text);
        return septets <= SingleSegmentSeptets ? 1 : Ceiling(septets, MultipartSegmentSeptets);
    }

    /// <summary>The septets a GSM-7 text takes: two for each character of the extension table.</summary>
    public static int Septets(string text)
    {
        var septets = text.Length;
        var rest = text.AsSpan();
        for (var i = rest.IndexOfAny(ExtensionSet); i >= 0; i = rest.IndexOfAny(ExtensionSet))
        {
            septets++;
            rest = rest[(i + 1)..];
        }

        return septets;
    }

    private static int Ceiling(int count, int perSegment) => (count + perSegment - 1) / perSegment;

    private static void Append(StringBuilder result, string piece)
    {
        // Collapse runs of spaces as they are written, so no second pass is needed.
        if (piece == " " && result.Length > 0 && result[^1] == ' ')
        {
            return;
        }

        result.Append(piece);
    }
}
