using System.Globalization;

namespace RappelRdv.Reminders.Texts;

/// <summary>Dates and times as French people write and say them, in the tenant's time zone.</summary>
/// <remarks>
/// The names are written out here because the build runs with InvariantGlobalization:
/// there is no "fr-FR" culture to format with.
/// </remarks>
internal static class FrenchDates
{
    private static readonly string[] DayNames =
        ["dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"];

    private static readonly string[] MonthNames =
        ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"];

    /// <summary>"jeudi 3 décembre à 9h30", "lundi 1er juin à 14h".</summary>
    public static string DayAndTime(DateTimeOffset instant, TimeZoneInfo zone) =>
        $"{Day(instant, zone)} à {Time(instant, zone)}";

    /// <summary>"jeudi 3 décembre", "lundi 1er juin": no year, an appointment is weeks away at most.</summary>
    public static string Day(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var day = local.Day == 1 ? "1er" : local.Day.ToString(CultureInfo.InvariantCulture);
        return $"{DayNames[(int)local.DayOfWeek]} {day} {MonthNames[local.Month - 1]}";
    }

    /// <summary>"9h30", "14h": the hour without a leading zero, minutes only when there are some.</summary>
    public static string Time(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        return local.Minute == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{local.Hour}h")
            : string.Create(CultureInfo.InvariantCulture, $"{local.Hour}h{local.Minute:00}");
    }

    /// <summary>
    /// "9 heures 30", "14 heures", "1 heure 5": the time as a speech synthesizer should read it
    /// ("9h30" may be read letter by letter).
    /// </summary>
    public static string SpokenTime(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var hours = local.Hour <= 1 ? "heure" : "heures";
        return local.Minute == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{local.Hour} {hours}")
            : string.Create(CultureInfo.InvariantCulture, $"{local.Hour} {hours} {local.Minute}");
    }
}
