using System.Text;

namespace RappelRdv.Reminders.Texts;

/// <summary>A place's phone number as a citizen dials it: national digits, written or spoken in pairs.</summary>
internal static class LocationPhone
{
    // Country codes of France and its overseas territories: "+262 692…" is dialled "0692…".
    private static readonly string[] FrenchCountryCodes = ["33", "262", "269", "508", "590", "594", "596", "681", "687", "689"];

    /// <summary>"0494000000" from "04 94 00 00 00" or "+33 4 94 00 00 00"; null when it is no number.</summary>
    public static string? NationalDigits(string? phone)
    {
        if (string.IsNullOrWhiteSpace(phone) || phone.Length > 40)
        {
            return null;
        }

        var trimmed = phone.Trim();
        var digits = new string([.. trimmed.Where(char.IsAsciiDigit)]);
        var international = trimmed.StartsWith('+') || digits.StartsWith("00", StringComparison.Ordinal);
        if (international)
        {
            digits = digits.TrimStart('0');
            var code = FrenchCountryCodes.FirstOrDefault(c => digits.StartsWith(c, StringComparison.Ordinal));
            if (code is not null && digits.Length > code.Length + 6)
            {
                digits = "0" + digits[code.Length..];
            }
        }

        // Short numbers (3949, 115) and national ones; anything longer is not something to read out.
        return digits.Length is >= 3 and <= 12 ? digits : null;
    }

    /// <summary>"04 94 00 00 00": the way French numbers are printed.</summary>
    public static string? Written(string? phone) =>
        NationalDigits(phone) is { } digits ? string.Join(' ', digits.Chunk(2).Select(pair => new string(pair))) : null;

    /// <summary>
    /// "zéro 4, 94, zéro zéro, …": pairs, as French people say numbers, with a leading zero
    /// said out loud (a synthesizer reads "04" as "quatre").
    /// </summary>
    public static string? Spoken(string? phone)
    {
        if (NationalDigits(phone) is not { } digits)
        {
            return null;
        }

        var spoken = new StringBuilder();
        foreach (var pair in digits.Chunk(2))
        {
            if (spoken.Length > 0)
            {
                spoken.Append(", ");
            }

            spoken.Append(pair switch
            {
                ['0', var second] => $"zéro {(second == '0' ? "zéro" : second.ToString())}",
                _ => new string(pair),
            });
        }

        return spoken.ToString();
    }

    /// <summary>"0 4, 9 4, 0 0, …": digit by digit in pairs, which every synthesizer reads in its own language.</summary>
    public static string? SpokenDigits(string? phone) =>
        NationalDigits(phone) is { } digits ? string.Join(", ", digits.Chunk(2).Select(pair => string.Join(' ', pair))) : null;
}
