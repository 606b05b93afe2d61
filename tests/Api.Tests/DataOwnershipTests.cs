using System.Text.RegularExpressions;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The engine owns its data (STYLE.md, habit 13): each table has one module of <c>src/Reminders</c> that
/// writes it, and the hosts change it only by calling that module. Read from the source files of the
/// Api, the Worker and the engine, so that SQL writing <c>messages</c> or <c>appointments</c> anywhere
/// else fails here, before review.
/// </summary>
public sealed partial class DataOwnershipTests
{
    /// <summary>Each table, and the one folder whose files may write it.</summary>
    private static readonly (string Table, string Owner)[] Owners =
    [
        ("messages", "src/Reminders/Messages/"),
        ("appointments", "src/Reminders/Appointments/"),
    ];

    /// <summary>Files that still write a table outside its module, each with the reason; the list only shrinks.</summary>
    private static readonly Dictionary<string, string> NotMovedYet = new(StringComparer.Ordinal)
    {
    };

    private static readonly string[] Hosts = ["src/Api", "src/Worker", "src/Reminders"];

    [Fact]
    public void Only_its_module_writes_a_table()
    {
        var strays = Writes().Where(w => !w.File.StartsWith(w.Owner, StringComparison.Ordinal) && !NotMovedYet.ContainsKey(w.File))
            .Select(w => $"{w.File}:{w.Line} writes {w.Table} (only {w.Owner} may: call its module)").ToList();

        Assert.True(strays.Count == 0, "SQL writing a table outside its module:\n" + string.Join("\n", strays));
    }

    [Fact]
    public void Every_exception_still_needs_to_be_one()
    {
        var writers = Writes().Select(w => w.File).ToHashSet(StringComparer.Ordinal);

        Assert.DoesNotContain(NotMovedYet.Keys, file => !writers.Contains(file));
    }

    [Fact]
    public void The_scan_sees_the_modules_writes()
    {
        var writes = Writes().ToList();

        Assert.Contains(writes, w => w.File == "src/Reminders/Messages/MessageStates.cs" && w.Table == "messages");
        Assert.Contains(writes, w => w.File.StartsWith("src/Reminders/Appointments/", StringComparison.Ordinal) && w.Table == "appointments");
    }

    private sealed record Write(string File, int Line, string Table, string Owner);

    private static IEnumerable<Write> Writes()
    {
        var root = FindRoot();
        foreach (var host in Hosts)
        {
            foreach (var path in Directory.EnumerateFiles(Path.Combine(root, host), "*.*", SearchOption.AllDirectories)
                .Where(p => p.EndsWith(".cs", StringComparison.Ordinal) || p.EndsWith(".razor", StringComparison.Ordinal)))
            {
                var file = Path.GetRelativePath(root, path).Replace('\\', '/');
                if (file.Contains("/obj/", StringComparison.Ordinal) || file.Contains("/bin/", StringComparison.Ordinal))
                {
                    continue;
                }

                var lines = File.ReadAllLines(path);
                for (var i = 0; i < lines.Length; i++)
                {
                    foreach (Match match in WritingSql().Matches(lines[i]))
                    {
                        var table = match.Groups["table"].Value.ToLowerInvariant();
                        yield return new Write(file, i + 1, table, Owners.Single(o => o.Table == table).Owner);
                    }
                }
            }
        }
    }

    [GeneratedRegex(@"\b(?:insert\s+into|update|delete\s+from)\s+(?<table>messages|appointments)\b", RegexOptions.IgnoreCase)]
    private static partial Regex WritingSql();

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "RappelRdv.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("RappelRdv.sln not found above " + AppContext.BaseDirectory);
    }
}
