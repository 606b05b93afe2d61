namespace RappelRdv.Api.Dashboard;

/// <summary>
/// Whether the no-show rates of two groups (reminded, holdout) differ by more than chance: the
/// two-proportion z-test, with the usual rule that each group needs enough observations.
/// </summary>
internal static class Significance
{
    /// <summary>Honoured + no-show needed in each group before comparing at all.</summary>
    public const int MinimumSample = 30;

    public const double Level = 0.05;

    /// <summary>The two-sided p-value of "both groups have the same rate"; null when it cannot be computed.</summary>
    public static double? PValue(long noShows1, long decided1, long noShows2, long decided2)
    {
        if (decided1 == 0 || decided2 == 0)
        {
            return null;
        }

        var pooled = (double)(noShows1 + noShows2) / (decided1 + decided2);
        var standardError = Math.Sqrt(pooled * (1 - pooled) * (1.0 / decided1 + 1.0 / decided2));
        if (standardError == 0)
        {
            return 1;
        }

        var z = ((double)noShows1 / decided1 - (double)noShows2 / decided2) / standardError;
        return 2 * (1 - NormalCdf(Math.Abs(z)));
    }

    // Abramowitz and Stegun 7.1.26: error below 1.5e-7, plenty for a p-value shown to 3 decimals.
    private static double NormalCdf(double z)
    {
        var x = z / Math.Sqrt(2);
        var t = 1 / (1 + 0.3275911 * x);
        var erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-x * x);
        return 0.5 * (1 + erf);
    }
}
