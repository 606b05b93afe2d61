using System.Text;
using System.Text.Json;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// U+0000–U+001F and U+007F are refused wherever a string comes in. A NUL makes PostgreSQL refuse
/// the whole row (and, in a batch of creations, the whole batch); the others have no place in a
/// name, a place or a setting and can forge lines in logs and CSV exports. The one check, used by
/// every JSON body (<see cref="JsonBody"/>), the RDV-Solidarités mapping and Twilio's forms.
/// </summary>
internal static class ControlCharacters
{
    public const string Message = "Must not contain control characters (U+0000 to U+001F, U+007F).";

    public static bool Contains(ReadOnlySpan<char> value) => value.IndexOfAnyInRange('\0', '\u001f') >= 0 || value.Contains('\u007f');

    public static void Check(FieldErrors errors, string field, string? value)
    {
        if (value is not null && Contains(value))
        {
            errors.Add(field, Message);
        }
    }

    /// <summary>Every string of a (valid) JSON document, names and values alike, each reported under its path (<c>citizen.firstName</c>, <c>reminders[0].channel</c>).</summary>
    public static void CheckJson(ReadOnlySpan<byte> json, FieldErrors errors)
    {
        var reader = new Utf8JsonReader(json);
        var path = new List<Frame>();
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.PropertyName:
                    path[^1].Property = reader.GetString();
                    if (reader.ValueIsEscaped && Contains(path[^1].Property))
                    {
                        errors.Add(Path(path), Message);
                    }

                    break;
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    NextElement(path);
                    path.Add(new Frame(reader.TokenType == JsonTokenType.StartArray));
                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    path.RemoveAt(path.Count - 1);
                    break;
                default:
                    NextElement(path);
                    // An unescaped JSON string cannot hold a control character: only escaped ones need decoding.
                    if (reader.TokenType == JsonTokenType.String && reader.ValueIsEscaped && Contains(reader.GetString()))
                    {
                        errors.Add(Path(path), Message);
                    }

                    break;
            }
        }
    }

    private static void NextElement(List<Frame> path)
    {
        if (path.Count > 0 && path[^1].IsArray)
        {
            path[^1].Index++;
        }
    }

    private static string Path(List<Frame> path)
    {
        var text = new StringBuilder();
        foreach (var frame in path)
        {
            if (frame.IsArray)
            {
                text.Append('[').Append(frame.Index).Append(']');
            }
            else if (frame.Property is { } name)
            {
                // The name is echoed in the answer: its own control characters are not.
                text.Append(text.Length == 0 ? "" : ".").Append(Contains(name) ? string.Concat(name.Select(c => char.IsControl(c) ? '?' : c)) : name);
            }
        }

        return text.Length == 0 ? "body" : text.ToString();
    }

    private sealed class Frame(bool isArray)
    {
        public bool IsArray { get; } = isArray;

        public string? Property { get; set; }

        public int Index { get; set; } = -1;
    }
}
