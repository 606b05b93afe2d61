using RappelRdv.Api.Dashboard;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>The dashboard's comparison of a trial's variants: the test of reminded against holdout, per variant.</summary>
public sealed class VariantComparisonTests
{
    private static NoShowRow Row(string key, int honoured, int noShow) =>
        new(key, honoured + noShow, honoured, noShow, 0, 0, 0, honoured + noShow == 0 ? null : (double)noShow / (honoured + noShow));

    private static NoShowStats Stats(params NoShowRow[] rows) =>
        new("2026-01-01", "2026-03-31", "variant", rows, new NoShowCounts(0, 0, 0, 0, 0, 0, null));

    [Fact]
    public void A_clear_difference_with_enough_appointments_is_significant_against_the_reference()
    {
        // 11.1 % against 8.4 % (Hallsworth et al., 2015) needs thousands: 20 % against 8 % over 400 each does not.
        var comparison = VariantComparison.From(Stats(Row("B", 368, 32), Row("A", 320, 80), Row("", 5, 5)))!;

        Assert.Equal("A", comparison.Reference);
        Assert.Null(comparison.Warning);
        var a = Assert.Single(comparison.Variants, v => v.Variant == "A");
        var b = Assert.Single(comparison.Variants, v => v.Variant == "B");
        Assert.Null(a.PValue);
        Assert.Equal(Significance.PValue(32, 400, 80, 400), b.PValue);
        Assert.True(b.Significant);
        Assert.Equal(0.05, comparison.Level);
    }

    [Fact]
    public void Small_samples_are_warned_about_and_never_significant()
    {
        var comparison = VariantComparison.From(Stats(Row("A", 20, 9), Row("B", 29, 0)))!;

        Assert.NotNull(comparison.Warning);
        Assert.Contains("A, B", comparison.Warning, StringComparison.Ordinal);
        Assert.All(comparison.Variants, v => Assert.False(v.Significant));
    }

    [Fact]
    public void Three_variants_share_the_level_and_one_variant_is_no_trial()
    {
        Assert.Equal(0.025, VariantComparison.From(Stats(Row("A", 50, 5), Row("B", 50, 5), Row("C", 50, 5)))!.Level, 6);
        Assert.Null(VariantComparison.From(Stats(Row("A", 50, 5), Row("", 50, 5))));
    }
}
