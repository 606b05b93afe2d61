using System.Globalization;
using System.Text;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Bench.Segments;

/// <summary>The segments each kind of SMS takes over a sample, and the texts that show it.</summary>
public sealed record KindFigures(string Kind, IReadOnlyDictionary<int, int> BySegments, int Count, int Gsm7Count, string Longest)
{
    public double Average => BySegments.Sum(p => (double)p.Key * p.Value) / Count;

    public double OneSegmentShare => (double)BySegments.GetValueOrDefault(1) / Count;

    public int Max => BySegments.Keys.Max();
}

public sealed record SegmentsReport(string Language, IReadOnlyList<KindFigures> Kinds)
{
    public KindFigures this[string kind] => Kinds.Single(k => k.Kind == kind);

    public static SegmentsReport Run(IReadOnlyList<SampleAppointment> sample, string language, IEnumerable<string>? only = null)
    {
        var kinds = new List<KindFigures>();
        foreach (var kind in only ?? SmsTexts.Kinds)
        {
            var bySegments = new SortedDictionary<int, int>();
            var gsm7 = 0;
            var longest = "";
            foreach (var appointment in sample)
            {
                var text = SmsTexts.For(kind, appointment.Context with { Language = language });
                var segments = Gsm7.Segments(text);
                bySegments[segments] = bySegments.GetValueOrDefault(segments) + 1;
                gsm7 += Gsm7.IsGsm7(text) ? 1 : 0;
                if (text.Length > longest.Length)
                {
                    longest = text;
                }
            }

            kinds.Add(new KindFigures(kind, bySegments, sample.Count, gsm7, longest));
        }

        return new SegmentsReport(language, kinds);
    }

    public string Format()
    {
        var output = new StringBuilder();
        var count = Kinds[0].Count;
        output.AppendLine(CultureInfo.InvariantCulture, $"{count} appointments, language {Language}");
        output.AppendLine("kind          1 seg   2 seg   3 seg   avg    GSM-7");
        foreach (var k in Kinds)
        {
            output.AppendLine(CultureInfo.InvariantCulture,
                $"{k.Kind,-12} {Share(k, 1),6} {Share(k, 2),7} {Share(k, 3),7} {k.Average,6:0.000} {(double)k.Gsm7Count / k.Count,7:P0}");
        }

        foreach (var k in Kinds)
        {
            output.AppendLine(CultureInfo.InvariantCulture, $"longest {k.Kind} ({Gsm7.Segments(k.Longest)} segments): {k.Longest}");
        }

        return output.ToString();
    }

    private static string Share(KindFigures k, int segments) =>
        ((double)k.BySegments.GetValueOrDefault(segments) / k.Count).ToString("P1", CultureInfo.InvariantCulture);
}
