using RappelRdv.Contracts;

namespace RappelRdv.Api.Dashboard;

/// <summary>One variant of a wording trial against the reference variant.</summary>
/// <param name="PValue">Null for the reference itself, or while a sample is too small to compute.</param>
/// <param name="Significant">The difference is beyond chance at <see cref="VariantComparison.Level"/>, with enough observations on both sides.</param>
public sealed record VariantResult(
    string Variant, int Appointments, int Decided, int NoShow, double? NoShowRate, bool EnoughSample, double? PValue, bool Significant);

/// <summary>
/// The variants of a wording trial compared the way reminded and holdout are: no-show rates, the
/// two-proportion z-test of each variant against the reference (the first name in ordinal order,
/// "A" by convention the current wording), and a warning while a sample is small.
/// </summary>
/// <param name="Level">
/// The significance level of each comparison: <see cref="Significance.Level"/> divided by the
/// number of comparisons (Bonferroni), so that a trial of many variants does not find a
/// "winner" by chance more often than one of two.
/// </param>
public sealed record VariantComparison(string Reference, IReadOnlyList<VariantResult> Variants, double Level, string? Warning)
{
    /// <summary>Null when fewer than two variants have appointments in the period: nothing to compare.</summary>
    public static VariantComparison? From(NoShowStats byVariant)
    {
        var rows = byVariant.Rows.Where(r => r.Key.Length > 0).OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        if (rows.Count < 2)
        {
            return null;
        }

        var reference = rows[0];
        var level = Significance.Level / (rows.Count - 1);
        var results = rows.Select(row =>
        {
            var decided = row.Honoured + row.NoShow;
            var enough = decided >= Significance.MinimumSample;
            var p = row == reference || !enough || reference.Honoured + reference.NoShow < Significance.MinimumSample
                ? null
                : Significance.PValue(row.NoShow, decided, reference.NoShow, reference.Honoured + reference.NoShow);
            return new VariantResult(row.Key, row.Appointments, decided, row.NoShow, row.NoShowRate, enough, p, p < level);
        }).ToList();
        var small = results.Where(r => !r.EnoughSample).Select(r => r.Variant).ToList();
        var warning = small.Count == 0
            ? null
            : Copy.TrialSampleTooSmall(Significance.MinimumSample, small);
        return new VariantComparison(reference.Key, results, level, warning);
    }
}

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
