using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;

namespace RappelRdv.Api.Dashboard.Components;

/// <summary>
/// An SVG <c>&lt;text&gt;</c> element: written in C# because Razor reserves the <c>&lt;text&gt;</c> tag inside code blocks.
/// </summary>
public sealed class SvgText : ComponentBase
{
    [Parameter] public double X { get; set; }

    [Parameter] public double Y { get; set; }

    [Parameter] public string? Anchor { get; set; }

    [Parameter] public int FontSize { get; set; } = 12;

    [Parameter] public string? Value { get; set; }

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        builder.OpenElement(0, "text");
        builder.AddAttribute(1, "x", ChartColours.N(X));
        builder.AddAttribute(2, "y", ChartColours.N(Y));
        if (Anchor is not null)
        {
            builder.AddAttribute(3, "text-anchor", Anchor);
        }

        builder.AddAttribute(4, "font-size", FontSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.AddAttribute(5, "fill", ChartColours.Ink);
        builder.AddContent(6, Value);
        builder.CloseElement();
    }
}
