using System.Text.RegularExpressions;
using Npgsql;

namespace RappelRdv.Reminders.Database;

/// <summary>
/// A statement written with named parameters (<c>@Name</c>) and sent with positional ones
/// (<c>$1</c>, <c>$2</c>…), in the order the names first appear. Npgsql sends a statement whose
/// parameters have no names as it is; with names, it parses the text again on every call to rewrite
/// them. For a long statement on a hot path (the creation batch, <c>AppointmentStore.Creation.cs</c>).
/// </summary>
internal sealed partial class PositionalSql
{
    private PositionalSql(string text, IReadOnlyList<string> names)
    {
        Text = text;
        Names = names;
    }

    /// <summary>The statement with <c>$n</c> in place of each <c>@Name</c>.</summary>
    public string Text { get; }

    /// <summary>The parameters' names, in the order of their numbers.</summary>
    public IReadOnlyList<string> Names { get; }

    [GeneratedRegex(@"(?<![@\w])@([A-Za-z_]\w*)")]
    private static partial Regex Parameter();

    public static PositionalSql From(string sql)
    {
        var names = new List<string>();
        var text = Parameter().Replace(sql, match =>
        {
            var name = match.Groups[1].Value;
            var index = names.IndexOf(name);
            if (index < 0)
            {
                names.Add(name);
                index = names.Count - 1;
            }

            return "$" + (index + 1);
        });
        return new PositionalSql(text, names);
    }

    /// <summary>
    /// A command of an <see cref="NpgsqlBatch"/> with the parameters given by name: each name of the
    /// statement must be given once, and nothing else.
    /// </summary>
    public NpgsqlBatchCommand BatchCommand(IReadOnlyDictionary<string, NpgsqlParameter> parameters)
    {
        var command = new NpgsqlBatchCommand(Text);
        command.Parameters.AddRange(InOrder(parameters));
        return command;
    }

    private NpgsqlParameter[] InOrder(IReadOnlyDictionary<string, NpgsqlParameter> parameters)
    {
        if (parameters.Count != Names.Count || Names.Any(name => !parameters.ContainsKey(name)))
        {
            throw new ArgumentException(
                $"The statement's parameters are {string.Join(", ", Names)}; given: {string.Join(", ", parameters.Keys)}.", nameof(parameters));
        }

        return [.. Names.Select(name => parameters[name])];
    }
}
