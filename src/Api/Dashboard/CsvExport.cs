using System.Text;
using RappelRdv.Api.Stats;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// The statistics as a CSV file that French Excel opens as it is, with a double click: UTF-8 with
/// a byte order mark (else accents break), ';' between fields (',' is the decimal separator
/// there), decimal commas, CRLF line ends.
/// </summary>
internal static class CsvExport
{
    public static byte[] Write(NoShowStats stats)
    {
        var csv = new StringBuilder();
        Line(csv, ["Clé", French.Breakdown(stats.By), "Rendez-vous", "Honorés", "Absents", "Excusés", "Annulés", "Sans issue", "Taux d'absence"]);
        foreach (var row in stats.Rows)
        {
            Line(csv, [row.Key, French.Key(stats.By, row.Key), .. Counts(Tally.Of(row))]);
        }

        Line(csv, ["Total", $"du {French.Date(DateOnly.Parse(stats.From, System.Globalization.CultureInfo.InvariantCulture))} " +
            $"au {French.Date(DateOnly.Parse(stats.To, System.Globalization.CultureInfo.InvariantCulture))}",
            .. Counts(new Tally(stats.Total.Appointments, stats.Total.Honoured, stats.Total.NoShow, stats.Total.Excused, stats.Total.Cancelled))]);
        return Encoded(csv);
    }

    /// <summary>Any table the same way (the usage export too): the first line is the header.</summary>
    public static byte[] Write(IEnumerable<IReadOnlyList<string>> lines)
    {
        var csv = new StringBuilder();
        foreach (var fields in lines)
        {
            Line(csv, fields);
        }

        return Encoded(csv);
    }

    private static byte[] Encoded(StringBuilder csv) => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(csv.ToString())];

    public static string FileName(NoShowStats stats) => $"absences_{stats.From}_{stats.To}_{stats.By}.csv";

    private static string[] Counts(Tally tally) =>
    [
        tally.Appointments.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tally.Honoured.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tally.NoShow.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tally.Excused.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tally.Cancelled.ToString(System.Globalization.CultureInfo.InvariantCulture),
        tally.Unknown.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // A fraction, so that Excel can compute with it and show it as a percentage.
        tally.NoShowRate is { } rate ? French.Decimal(rate, 4) : "",
    ];

    private static void Line(StringBuilder csv, IReadOnlyList<string> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                csv.Append(';');
            }

            csv.Append(Field(fields[i]));
        }

        csv.Append("\r\n");
    }

    private static string Field(string value)
    {
        // A service named "=HYPERLINK(…)" must stay text: Excel runs formulas in a CSV (OWASP "CSV injection").
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.IndexOfAny([';', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
