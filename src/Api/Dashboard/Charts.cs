using System.Globalization;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// Inline SVG bar charts of the no-show rate. Each is an image with a title and a description;
/// the numbers themselves are in the table beside it, which screen readers read instead.
/// </summary>
internal static class Charts
{
    private const string Bar = "#1d4f91";      // 8.4:1 on white
    private const string Other = "#a33a00";    // 6.6:1 on white, for the holdout group
    private const string Grid = "#8a8a8a";
    private const string Ink = "#1b1b1b";

    /// <summary>One column per week or month; a period without honoured or no-show has no column.</summary>
    public static void Columns(Html html, string id, string title, IReadOnlyList<NoShowRow> rows)
    {
        const double width = 760, height = 260, left = 48, right = 12, top = 14, bottom = 40;
        var (max, tickStep) = Scale(rows.Select(r => r.NoShowRate));
        var plotWidth = width - left - right;
        var plotHeight = height - top - bottom;
        var slot = rows.Count == 0 ? plotWidth : plotWidth / rows.Count;
        var labelEvery = Math.Max(1, (int)Math.Ceiling(rows.Count / 13.0));

        using (Svg(html, id, title, width, height))
        {
            Axis(html, max, tickStep, left, width - right, top, plotHeight);
            for (var i = 0; i < rows.Count; i++)
            {
                var x = left + i * slot;
                if (rows[i].NoShowRate is { } rate)
                {
                    var h = rate / max * plotHeight;
                    html.Open("rect", ("x", N(x + slot * 0.15)), ("y", N(top + plotHeight - h)), ("width", N(slot * 0.7)),
                            ("height", N(h)), ("fill", Bar))
                        .Element("title", $"{French.Key("week", rows[i].Key)} : {French.Percent(rate)}")
                        .Close("rect");
                }

                if (i % labelEvery == 0)
                {
                    html.Element("text", French.ShortPeriod(rows[i].Key),
                        ("x", N(x + slot / 2)), ("y", N(height - bottom + 16)), ("text-anchor", "middle"), ("font-size", "12"), ("fill", Ink));
                }
            }
        }
    }

    /// <summary>One horizontal bar per key, labelled; <paramref name="highlight"/> is drawn in a second colour.</summary>
    public static void Bars(Html html, string id, string title, string by, IReadOnlyList<NoShowRow> rows, string? highlight = null)
    {
        const double width = 760, labelWidth = 230, valueWidth = 70, rowHeight = 30, top = 8;
        var height = top + rows.Count * rowHeight + 8;
        var (max, _) = Scale(rows.Select(r => r.NoShowRate));
        var plotWidth = width - labelWidth - valueWidth;

        using (Svg(html, id, title, width, height))
        {
            for (var i = 0; i < rows.Count; i++)
            {
                var y = top + i * rowHeight;
                var label = French.Key(by, rows[i].Key);
                html.Element("text", label.Length > 32 ? label[..31] + "…" : label,
                    ("x", N(labelWidth - 8)), ("y", N(y + rowHeight / 2 + 4)), ("text-anchor", "end"), ("font-size", "13"), ("fill", Ink));
                var w = (rows[i].NoShowRate ?? 0) / max * plotWidth;
                html.Open("rect", ("x", N(labelWidth)), ("y", N(y + 5)), ("width", N(w)), ("height", N(rowHeight - 10)),
                        ("fill", rows[i].Key == highlight ? Other : Bar))
                    .Element("title", $"{label} : {French.Percent(rows[i].NoShowRate)}")
                    .Close("rect");
                html.Element("text", French.Percent(rows[i].NoShowRate),
                    ("x", N(labelWidth + w + 6)), ("y", N(y + rowHeight / 2 + 4)), ("font-size", "13"), ("fill", Ink));
            }
        }
    }

    private static Html.Scope Svg(Html html, string id, string title, double width, double height)
    {
        var scope = html.Tag("svg", ("xmlns", "http://www.w3.org/2000/svg"), ("viewBox", $"0 0 {N(width)} {N(height)}"),
            ("role", "img"), ("aria-labelledby", $"{id}-title {id}-desc"), ("class", "chart"), ("focusable", "false"));
        html.Element("title", title, ("id", $"{id}-title"))
            .Element("desc", "Taux d'absence : absents / (honorés + absents). Les valeurs exactes sont dans le tableau.", ("id", $"{id}-desc"));
        return scope;
    }

    private static void Axis(Html html, double max, double step, double x0, double x1, double top, double plotHeight)
    {
        var ticks = (int)Math.Round(max / step);
        for (var tick = 0; tick <= ticks; tick++)
        {
            var value = step * tick;
            var y = top + plotHeight - value / max * plotHeight;
            html.Open("line", ("x1", N(x0)), ("x2", N(x1)), ("y1", N(y)), ("y2", N(y)), ("stroke", Grid),
                    ("stroke-width", tick == 0 ? "1.5" : "0.5"))
                .Close("line")
                .Element("text", French.Percent(value), ("x", N(x0 - 6)), ("y", N(y + 4)), ("text-anchor", "end"),
                    ("font-size", "12"), ("fill", Ink));
        }
    }

    /// <summary>The top of the scale (at least 10 %) and a round step between ticks: 2,5, 5, 10 or 25 points.</summary>
    private static (double Max, double Step) Scale(IEnumerable<double?> rates)
    {
        var highest = Math.Max(0.10, rates.Max() ?? 0);
        var step = highest <= 0.10 ? 0.025 : highest <= 0.30 ? 0.05 : highest <= 0.60 ? 0.10 : 0.25;
        return (Math.Ceiling(highest / step - 1e-9) * step, step);
    }

    private static string N(double value) => Math.Round(value, 1).ToString(CultureInfo.InvariantCulture);
}
