namespace RappelRdv.Reminders.Texts;

/// <summary>The ASCII spelling of accented Latin letters, for SMS transliteration and reply parsing.</summary>
/// <remarks>
/// A hand-written table rather than <c>Normalize(NormalizationForm.FormD)</c>: the build sets
/// InvariantGlobalization, and in that mode .NET leaves strings unnormalized ("ê" stays one
/// character), so decomposing and stripping combining marks would silently do nothing.
/// </remarks>
internal static class LatinLetters
{
    private static readonly Dictionary<char, string> Ascii = Build(
        ("ÀÁÂÃÄÅĀĂĄ", "A"), ("àáâãäåāăą", "a"), ("Æ", "AE"), ("æ", "ae"),
        ("ÇĆĈĊČ", "C"), ("çćĉċč", "c"), ("ĎĐÐ", "D"), ("ďđð", "d"),
        ("ÈÉÊËĒĔĖĘĚ", "E"), ("èéêëēĕėęě", "e"), ("ĜĞĠĢ", "G"), ("ĝğġģ", "g"),
        ("ĤĦ", "H"), ("ĥħ", "h"), ("ÌÍÎÏĨĪĬĮİ", "I"), ("ìíîïĩīĭįı", "i"),
        ("Ĳ", "IJ"), ("ĳ", "ij"), ("Ĵ", "J"), ("ĵ", "j"), ("Ķ", "K"), ("ķĸ", "k"),
        ("ĹĻĽĿŁ", "L"), ("ĺļľŀł", "l"), ("ÑŃŅŇŊ", "N"), ("ñńņňŋ", "n"), ("ŉ", "'n"),
        ("ÒÓÔÕÖØŌŎŐ", "O"), ("òóôõöøōŏő", "o"), ("Œ", "OE"), ("œ", "oe"),
        ("ŔŖŘ", "R"), ("ŕŗř", "r"), ("ŚŜŞŠȘ", "S"), ("śŝşšșſ", "s"), ("ß", "ss"),
        ("ŢŤŦȚ", "T"), ("ţťŧț", "t"), ("Þ", "Th"), ("þ", "th"),
        ("ÙÚÛÜŨŪŬŮŰŲ", "U"), ("ùúûüũūŭůűų", "u"), ("Ŵ", "W"), ("ŵ", "w"),
        ("ÝŶŸ", "Y"), ("ýÿŷ", "y"), ("ŹŻŽ", "Z"), ("źżž", "z"));

    /// <summary>The ASCII letters for an accented Latin letter, or null when there is none.</summary>
    public static string? ToAscii(char letter) => Ascii.GetValueOrDefault(letter);

    private static Dictionary<char, string> Build(params (string Letters, string Ascii)[] groups)
    {
        var table = new Dictionary<char, string>();
        foreach (var (letters, ascii) in groups)
        {
            foreach (var letter in letters)
            {
                table.Add(letter, ascii);
            }
        }

        return table;
    }
}
