using RappelRdv.Api.Stats;

namespace RappelRdv.Api.Dashboard;

/// <summary>What the dashboard says of a group that got something against one drawn not to get it.</summary>
internal sealed record GroupVerdict(string Text, string Css, string? Role);

/// <summary>
/// The comparison of two randomised groups' no-show rates, as the dashboard words it: reminded against
/// the holdout, the targeted against the held out of the riskReminders rule. Too early to conclude
/// while either group has fewer than <see cref="Significance.MinimumSample"/> honoured or missed
/// appointments; then the difference and its two-proportion z-test.
/// </summary>
internal static class GroupComparison
{
    /// <param name="noControl">Said when the comparison group has no appointment in the period.</param>
    /// <param name="tooSmall">The warning, given the minimum and each group's honoured + missed.</param>
    /// <param name="effect">The rates and the difference in points (control minus treated: positive is fewer no-shows).</param>
    public static GroupVerdict Judge(
        Tally treated, Tally control, string noControl, Func<int, long, long, string> tooSmall, Func<double?, double?, double, string> effect)
    {
        if (control.Appointments == 0)
        {
            return new(noControl, "notice", null);
        }

        if (treated.Decided < Significance.MinimumSample || control.Decided < Significance.MinimumSample)
        {
            return new(tooSmall(Significance.MinimumSample, treated.Decided, control.Decided), "notice", "status");
        }

        var p = Significance.PValue(treated.NoShow, treated.Decided, control.NoShow, control.Decided) ?? 1;
        var pText = French.PValue(p);
        var said = effect(treated.NoShowRate, control.NoShowRate, (control.NoShowRate!.Value - treated.NoShowRate!.Value) * 100);
        return p < Significance.Level
            ? new(said + Copy.Significant(pText), "ok", "status")
            : new(said + Copy.NotSignificant(pText), "notice", "status");
    }
}
