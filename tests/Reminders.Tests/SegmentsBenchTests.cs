using RappelRdv.Bench.Segments;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Tests;

/// <summary>
/// What bench/Segments measures, asserted on the same 10,000 appointments (same seed): the targets
/// of the one-segment texts, and that no language ever exceeds what it is allowed.
/// </summary>
public sealed class SegmentsBenchTests
{
    private const int Seed = 20261201;

    private static readonly IReadOnlyList<SampleAppointment> Sample = SampleAppointments.Generate(10_000, Seed);

    [Fact]
    public void French_reminders_fit_one_segment_at_least_nine_times_in_ten()
    {
        // The two kinds the targets name, over the whole sample; the others below, over a part of it.
        var report = SegmentsReport.Run(Sample, "fr", ["reminder", "confirmation"]);

        Assert.True(report["reminder"].OneSegmentShare >= 0.90, report.Format());
        Assert.True(report["reminder"].Average <= 1.1, report.Format());
        Assert.True(report["confirmation"].Max <= 2, report.Format());
        foreach (var kind in report.Kinds.Concat(SegmentsReport.Run([.. Sample.Take(1_000)], "fr").Kinds))
        {
            Assert.Equal(kind.Count, kind.Gsm7Count);
            Assert.InRange(kind.Max, 1, SmsTexts.MaxSegments);
        }
    }

    [Theory]
    [InlineData("en")]
    [InlineData("es")]
    [InlineData("pt")]
    [InlineData("tr")]
    public void Latin_script_languages_are_GSM_7_in_two_segments_at_most(string language)
    {
        var report = SegmentsReport.Run([.. Sample.Take(1_000)], language);

        foreach (var kind in report.Kinds)
        {
            Assert.Equal(kind.Count, kind.Gsm7Count);
            Assert.InRange(kind.Max, 1, SmsTexts.MaxSegments);
        }
    }

    [Fact]
    public void Arabic_is_UCS_2_counted_honestly_and_within_three_segments()
    {
        var report = SegmentsReport.Run([.. Sample.Take(1_000)], "ar");

        foreach (var kind in report.Kinds)
        {
            Assert.Equal(0, kind.Gsm7Count);
            Assert.InRange(kind.Max, 2, SmsTexts.MaxUcs2Segments);
            // UCS-2: 70 UTF-16 units in one segment, 67 in each of several.
            Assert.True(kind.Longest.Length > 70 && kind.Longest.Length <= 3 * 67, kind.Longest);
        }
    }

    [Fact]
    public void The_sample_is_the_same_for_the_same_seed_and_spans_overseas_and_metropolitan_France()
    {
        var again = SampleAppointments.Generate(10_000, Seed);

        Assert.Equal(Sample.Select(a => a.Context), again.Select(a => a.Context));
        var zones = Sample.Select(a => a.Context.Zone.Id).Distinct().ToList();
        Assert.Contains("Europe/Paris", zones);
        Assert.Contains("America/Martinique", zones);
        Assert.Contains("Indian/Reunion", zones);
        Assert.Contains(Sample, a => a.FirstName.Any(c => c > 127));
    }
}
