using System.Globalization;

namespace RappelRdv.Reminders.Texts;

/// <summary>
/// Days and times as each language writes and says them, in the tenant's time zone. Written
/// out by hand: the build runs with InvariantGlobalization, so there are no cultures to format with.
/// </summary>
internal static class LocalDates
{
    private sealed record Names(string[] Days, string[] Months);

    private static readonly Dictionary<string, Names> Tables = new(StringComparer.Ordinal)
    {
        ["en"] = new(
            ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
            ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]),
        ["es"] = new(
            ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
            ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"]),
        ["pt"] = new(
            ["domingo", "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado"],
            ["janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro"]),
        ["tr"] = new(
            ["Pazar", "Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi"],
            ["Ocak", "Şubat", "Mart", "Nisan", "Mayıs", "Haziran", "Temmuz", "Ağustos", "Eylül", "Ekim", "Kasım", "Aralık"]),
        // Month names as in Morocco, Egypt and the Gulf; Western digits, as Maghreb Arabic writes them.
        ["ar"] = new(
            ["الأحد", "الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت"],
            ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]),
    };

    /// <summary>"jeudi 3 décembre", "Thursday 3 December", "jueves 3 de diciembre", "3 Aralık Perşembe".</summary>
    public static string Day(string language, DateTimeOffset instant, TimeZoneInfo zone)
    {
        if (!Tables.TryGetValue(language, out var names))
        {
            return FrenchDates.Day(instant, zone);
        }

        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var day = names.Days[(int)local.DayOfWeek];
        var month = names.Months[local.Month - 1];
        var number = local.Day.ToString(CultureInfo.InvariantCulture);
        return language switch
        {
            "es" or "pt" => $"{day} {number} de {month}",
            "tr" => $"{number} {month} {day}",
            _ => $"{day} {number} {month}",
        };
    }

    /// <summary>"9h30" in French and Portuguese, "9:30" elsewhere; 24-hour clock everywhere, as in France.</summary>
    public static string Time(string language, DateTimeOffset instant, TimeZoneInfo zone)
    {
        if (language is "fr" or "pt")
        {
            return FrenchDates.Time(instant, zone);
        }

        var local = TimeZoneInfo.ConvertTime(instant, zone);
        return string.Create(CultureInfo.InvariantCulture, $"{local.Hour}:{local.Minute:00}");
    }

    /// <summary>The time for a speech synthesizer: French spells it ("9 heures 30"); the others read "9:30" well.</summary>
    public static string SpokenTime(string language, DateTimeOffset instant, TimeZoneInfo zone) =>
        language == "fr" ? FrenchDates.SpokenTime(instant, zone) : Time(language, instant, zone);
}
