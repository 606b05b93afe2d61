using System.Globalization;
using RappelRdv.Api.Infrastructure;

namespace RappelRdv.Api.Stats;

/// <summary>The question of <c>GET /v1/stats/no-show</c>: a period of local dates, both included, and a breakdown.</summary>
internal sealed record NoShowQuery(DateOnly From, DateOnly To, string By)
{
    /// <summary>A longer period is refused: three years by week is already 157 rows.</summary>
    public const int MaxYears = 3;

    public static readonly string[] Breakdowns =
        ["week", "month", "service", "location", "channel", "confirmation", "cohort", "language", "variant", "risk"];

    public bool ByTime => By is "week" or "month";

    /// <summary>Reads the query string; each bad parameter is named in <paramref name="errors"/>.</summary>
    public static NoShowQuery? Parse(string? from, string? to, string? by, FieldErrors errors)
    {
        var fromDate = ParseDate("from", from, errors);
        var toDate = ParseDate("to", to, errors);
        by = string.IsNullOrEmpty(by) ? "week" : by;
        if (!Breakdowns.Contains(by, StringComparer.Ordinal))
        {
            errors.Add("by", $"Must be one of: {string.Join(", ", Breakdowns)}.");
        }

        if (fromDate is { } f && toDate is { } t)
        {
            if (t < f)
            {
                errors.Add("to", "Must not be before 'from'.");
            }
            else if (t > f.AddYears(MaxYears))
            {
                errors.Add("to", $"The period may span at most {MaxYears} years.");
            }
        }

        return errors.Any ? null : new NoShowQuery(fromDate!.Value, toDate!.Value, by);
    }

    private static DateOnly? ParseDate(string name, string? value, FieldErrors errors)
    {
        if (string.IsNullOrEmpty(value))
        {
            errors.Add(name, "Required: a date such as 2026-01-31.");
            return null;
        }

        if (!DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            errors.Add(name, "Must be a date such as 2026-01-31.");
            return null;
        }

        return date;
    }

    public static string Format(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
