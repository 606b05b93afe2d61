using RappelRdv.Contracts;

namespace RappelRdv.Api.Stats;

/// <summary>The contract's counts of a set of appointments; <c>unknown</c> is what the others leave.</summary>
internal readonly record struct Tally(long Appointments, long Honoured, long NoShow, long Excused, long Cancelled)
{
    public long Unknown => Appointments - Honoured - NoShow - Excused - Cancelled;

    /// <summary>Those who came or did not: the denominator of the rate.</summary>
    public long Decided => Honoured + NoShow;

    public double? NoShowRate => Decided == 0 ? null : (double)NoShow / Decided;

    public static Tally operator +(Tally a, Tally b) =>
        new(a.Appointments + b.Appointments, a.Honoured + b.Honoured, a.NoShow + b.NoShow, a.Excused + b.Excused, a.Cancelled + b.Cancelled);

    public NoShowRow ToRow(string key) =>
        new(key, (int)Appointments, (int)Honoured, (int)NoShow, (int)Excused, (int)Cancelled, (int)Unknown, NoShowRate);

    public NoShowCounts ToCounts() =>
        new((int)Appointments, (int)Honoured, (int)NoShow, (int)Excused, (int)Cancelled, (int)Unknown, NoShowRate);

    public static Tally Of(NoShowRow row) => new(row.Appointments, row.Honoured, row.NoShow, row.Excused, row.Cancelled);
}
