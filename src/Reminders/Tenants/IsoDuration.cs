using System.Globalization;
using System.Text.RegularExpressions;

namespace RappelRdv.Reminders.Tenants;

/// <summary>ISO 8601 durations in weeks, days, hours, minutes and seconds (months and years have no fixed length).</summary>
public static partial class IsoDuration
{
    [GeneratedRegex(@"^P(?:(?<w>\d{1,3})W)?(?:(?<d>\d{1,3})D)?(?:T(?:(?<h>\d{1,4})H)?(?:(?<m>\d{1,5})M)?(?:(?<s>\d{1,6})S)?)?$")]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text == "P" || text.EndsWith('T'))
        {
            return false;
        }

        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        static int Part(Match m, string name) =>
            m.Groups[name].Success ? int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;

        value = TimeSpan.FromDays((Part(match, "w") * 7) + Part(match, "d"))
            + TimeSpan.FromHours(Part(match, "h"))
            + TimeSpan.FromMinutes(Part(match, "m"))
            + TimeSpan.FromSeconds(Part(match, "s"));
        return true;
    }
}
