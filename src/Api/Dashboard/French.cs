using System.Globalization;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// Numbers, dates and the contract's words as French managers read them. Written out because
/// the build runs with InvariantGlobalization: there is no "fr-FR" culture to format with.
/// </summary>
internal static class French
{
    private const char NoBreakSpace = '\u00A0';

    private static readonly string[] Months =
        ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"];

    private static readonly string[] ShortMonths =
        ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];

    /// <summary>12 345 (no-break space between thousands).</summary>
    public static string Number(long value) =>
        value.ToString("#,0", CultureInfo.InvariantCulture).Replace(',', NoBreakSpace);

    /// <summary>12,3 % or "—" when there is no rate.</summary>
    public static string Percent(double? ratio) =>
        ratio is { } r ? Decimal(r * 100, 1) + NoBreakSpace + "%" : "—";

    /// <summary>A decimal with a comma: 0,1234.</summary>
    public static string Decimal(double value, int decimals) =>
        value.ToString("F" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).Replace('.', ',');

    /// <summary>"p = 0,042", or "p < 0,001" below what three decimals show.</summary>
    public static string PValue(double p) => p < 0.001 ? "p < 0,001" : "p = " + Probability(p);

    /// <summary>A p-value alone, as a table shows it: "0,042", "< 0,001".</summary>
    public static string Probability(double p) => p < 0.001 ? "< 0,001" : Decimal(p, 3);

    /// <summary>1 386,20 € (cents always; a price's further decimals kept: 0,0798 €); another currency by its code: 12,50 USD.</summary>
    public static string Money(decimal amount, string currency) =>
        amount.ToString("#,0.00######", CultureInfo.InvariantCulture).Replace(',', NoBreakSpace).Replace('.', ',')
        + NoBreakSpace + (currency == "EUR" ? "€" : currency);

    /// <summary>05/01/2026.</summary>
    public static string Date(DateOnly date) => date.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture);

    /// <summary>5 janv. 2026.</summary>
    public static string ShortDate(DateOnly date) =>
        string.Create(CultureInfo.InvariantCulture, $"{date.Day} {ShortMonths[date.Month - 1]} {date.Year}");

    /// <summary>05/01/2026 à 14h05.</summary>
    public static string DateTime(DateTime local) =>
        string.Create(CultureInfo.InvariantCulture, $"{local:dd/MM/yyyy} à {local.Hour}h{local.Minute:00}");

    /// <summary>"janvier 2026" for "2026-01"; "semaine du 5 janv. 2026" for "2026-W02".</summary>
    public static string Period(string key)
    {
        if (key.Length == 8 && key[4] == '-' && key[5] == 'W'
            && int.TryParse(key.AsSpan(0, 4), CultureInfo.InvariantCulture, out var year)
            && int.TryParse(key.AsSpan(6, 2), CultureInfo.InvariantCulture, out var week))
        {
            return "semaine du " + ShortDate(DateOnly.FromDateTime(ISOWeek.ToDateTime(year, week, DayOfWeek.Monday)));
        }

        if (key.Length == 7 && key[4] == '-'
            && int.TryParse(key.AsSpan(0, 4), CultureInfo.InvariantCulture, out year)
            && int.TryParse(key.AsSpan(5, 2), CultureInfo.InvariantCulture, out var month) && month is >= 1 and <= 12)
        {
            return $"{Months[month - 1]} {year.ToString(CultureInfo.InvariantCulture)}";
        }

        return key;
    }

    /// <summary>A table's row: "S41 · 5 oct." for a week (the year is in the period above), "janvier 2026" for a month.</summary>
    public static string RowLabel(string by, string key)
    {
        if (by == "week" && key.Length == 8
            && int.TryParse(key.AsSpan(0, 4), CultureInfo.InvariantCulture, out var year)
            && int.TryParse(key.AsSpan(6, 2), CultureInfo.InvariantCulture, out var week))
        {
            var monday = DateOnly.FromDateTime(ISOWeek.ToDateTime(year, week, DayOfWeek.Monday));
            return string.Create(CultureInfo.InvariantCulture, $"S{week:00} · {monday.Day} {ShortMonths[monday.Month - 1]}");
        }

        return Key(by, key);
    }

    /// <summary>A short label for a chart's axis: "S02" for a week, "janv." for a month.</summary>
    public static string ShortPeriod(string key) =>
        key.Length == 8 && key[5] == 'W' ? "S" + key[6..]
        : key.Length == 7 && int.TryParse(key.AsSpan(5, 2), CultureInfo.InvariantCulture, out var month) && month is >= 1 and <= 12
            ? ShortMonths[month - 1]
            : key;

    /// <summary>The key of a breakdown row, in words.</summary>
    public static string Key(string by, string key) => (by, key) switch
    {
        ("week" or "month", _) => Period(key),
        ("channel", "sms") => "SMS",
        ("channel", "voice") => "Appel vocal",
        ("channel", "none") => "Aucun rappel demandé",
        ("confirmation", "confirmed") => "Confirmés",
        ("confirmation", "unconfirmed") => "Non confirmés",
        ("cohort", "reminded") => "Avec rappel",
        ("cohort", "holdout") => "Sans rappel (groupe témoin)",
        ("variant", "") => "Hors essai",
        ("risk", "targeted") => "Rappel supplémentaire",
        ("risk", "held_out") => "Témoin (sans rappel en plus)",
        ("risk", "none") => "Non ciblés",
        ("variant", _) => "Variante " + key,
        (_, "") => "Non renseigné",
        _ => key,
    };

    public static string Breakdown(string by) => by switch
    {
        "week" => "Semaine",
        "month" => "Mois",
        "service" => "Service",
        "location" => "Lieu",
        "channel" => "Canal",
        "confirmation" => "Confirmation",
        "cohort" => "Groupe",
        "language" => "Langue",
        "variant" => "Variante",
        "risk" => "Ciblage",
        _ => by,
    };

    public static string MessageKind(string kind) => kind switch
    {
        "reminder" => "Rappel",
        "confirmation" => "Prise de rendez-vous",
        "change" => "Changement",
        "cancellation" => "Annulation",
        _ => kind,
    };

    public static string Channel(string channel) => channel switch
    {
        "sms" => "SMS",
        "voice" => "Appel vocal",
        _ => channel,
    };
}
