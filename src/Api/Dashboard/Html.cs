using System.Text;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// A small HTML writer: every text and attribute value goes through the encoder; only the
/// literal markup of this code goes in raw. Enough for one server-rendered page, no framework.
/// </summary>
internal sealed class Html
{
    private readonly StringBuilder builder = new();

    /// <summary>
    /// Text for an element's content or a double-quoted attribute value: the five characters
    /// that could end either are escaped, everything else is written as it is. (HtmlEncoder would
    /// also turn "+", "é" or a no-break space into references: correct, but unreadable in the source.)
    /// Data is never written into a script, a style, a URL scheme or an unquoted attribute.
    /// </summary>
    public static string Encode(string text)
    {
        if (text.AsSpan().IndexOfAny("&<>\"'") < 0)
        {
            return text;
        }

        var encoded = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            encoded.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => null,
            } ?? c.ToString());
        }

        return encoded.ToString();
    }

    /// <summary>Markup written by this code, never data.</summary>
    public Html Raw(string markup)
    {
        builder.Append(markup);
        return this;
    }

    public Html Text(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            builder.Append(Encode(text));
        }

        return this;
    }

    /// <summary>Opens <paramref name="tag"/>; attributes with a null value are left out, "" writes a bare attribute.</summary>
    public Html Open(string tag, params ReadOnlySpan<(string Name, string? Value)> attributes)
    {
        builder.Append('<').Append(tag);
        foreach (var (name, value) in attributes)
        {
            if (value is null)
            {
                continue;
            }

            builder.Append(' ').Append(name);
            if (value.Length > 0)
            {
                builder.Append("=\"").Append(Encode(value)).Append('"');
            }
        }

        builder.Append('>');
        return this;
    }

    public Html Close(string tag)
    {
        builder.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary><c>using (html.Tag("section")) { … }</c> closes the tag at the end of the block.</summary>
    public Scope Tag(string tag, params ReadOnlySpan<(string Name, string? Value)> attributes)
    {
        Open(tag, attributes);
        return new Scope(this, tag);
    }

    /// <summary>An element holding only text.</summary>
    public Html Element(string tag, string? text, params ReadOnlySpan<(string Name, string? Value)> attributes) =>
        Open(tag, attributes).Text(text).Close(tag);

    public override string ToString() => builder.ToString();

    public readonly struct Scope(Html html, string tag) : IDisposable
    {
        public void Dispose() => html.Close(tag);
    }
}
