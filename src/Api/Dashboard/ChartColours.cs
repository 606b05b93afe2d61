using System.Globalization;

namespace RappelRdv.Api.Dashboard;

/// <summary>The charts' colours (all above 4.5:1 on white) and scale, shared by Components/ColumnChart and BarChart.</summary>
internal static class ChartColours
{
    public const string Bar = "#1d4f91";      // 8.4:1 on white
    public const string Other = "#a33a00";    // 6.6:1 on white, for the holdout group
    public const string Grid = "#8a8a8a";
    public const string Ink = "#1b1b1b";

    /// <summary>The top of the scale (at least 10 %) and a round step between ticks: 2,5, 5, 10 or 25 points.</summary>
    public static (double Max, double Step) Scale(IEnumerable<double?> rates)
    {
        var highest = Math.Max(0.10, rates.Max() ?? 0);
        var step = highest <= 0.10 ? 0.025 : highest <= 0.30 ? 0.05 : highest <= 0.60 ? 0.10 : 0.25;
        return (Math.Ceiling(highest / step - 1e-9) * step, step);
    }

    public static string N(double value) => Math.Round(value, 1).ToString(CultureInfo.InvariantCulture);
}
