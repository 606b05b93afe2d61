extern alias worker;
using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using RappelRdv.Reminders.Database;
using WorkerSetup = worker::RappelRdv.Worker.WorkerSetup;

namespace RappelRdv.Api.Tests;

/// <summary>
/// <c>src/Reminders</c> is a library: internal by default, public only what a host uses. Read from the
/// compiled hosts themselves (the type references in their metadata), so that a type made public for a
/// test, or left public once its last host use is gone, fails here instead of widening the surface.
/// </summary>
public sealed class LibrarySurfaceTests
{
    private static readonly Assembly Reminders = typeof(Database).Assembly;

    [Fact]
    public void Every_public_type_of_the_library_is_used_by_the_api_or_the_worker()
    {
        var used = ReferencedTypes(typeof(Program).Assembly, Reminders.GetName().Name!)
            .Union(ReferencedTypes(typeof(WorkerSetup).Assembly, Reminders.GetName().Name!))
            .ToHashSet(StringComparer.Ordinal);

        var unused = Reminders.GetExportedTypes()
            .Where(t => !t.IsNested && !OnlyConstants(t) && !used.Contains(t.FullName!))
            .Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();

        Assert.True(unused.Count == 0,
            $"Public in RappelRdv.Reminders but used by neither host (make them internal): {string.Join(", ", unused)}");
        Assert.True(Reminders.GetTypes().Count(t => !t.IsNested && !t.IsPublic) > 0, "The library has internal types.");
    }

    [Fact]
    public void The_check_tells_the_hosts_apart()
    {
        var api = ReferencedTypes(typeof(Program).Assembly, Reminders.GetName().Name!);
        var worker = ReferencedTypes(typeof(WorkerSetup).Assembly, Reminders.GetName().Name!);

        // Both open the database; only the Worker counts a text's segments before sending it.
        Assert.Contains(typeof(Database).FullName!, api);
        Assert.Contains(typeof(Database).FullName!, worker);
        Assert.Contains(typeof(RappelRdv.Reminders.Texts.Gsm7).FullName!, worker);
        Assert.DoesNotContain(typeof(RappelRdv.Reminders.Texts.Gsm7).FullName!, api);
    }

    /// <summary>
    /// A class of constants only (<c>MessageStatus.Pending</c>): the compiler copies a constant's value
    /// into the host, so a host that uses it keeps no reference to the class.
    /// </summary>
    private static bool OnlyConstants(Type type) =>
        type is { IsAbstract: true, IsSealed: true }
        && type.GetMembers(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .All(m => m is FieldInfo { IsLiteral: true });

    /// <summary>The full names of the top-level types <paramref name="host"/> references in <paramref name="library"/>.</summary>
    private static HashSet<string> ReferencedTypes(Assembly host, string library)
    {
        using var stream = File.OpenRead(host.Location);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var handle in metadata.TypeReferences)
        {
            var reference = metadata.GetTypeReference(handle);
            if (reference.ResolutionScope.Kind != HandleKind.AssemblyReference)
                continue; // nested types resolve through their parent, which is listed on its own
            var assembly = metadata.GetAssemblyReference((AssemblyReferenceHandle)reference.ResolutionScope);
            if (!metadata.StringComparer.Equals(assembly.Name, library))
                continue;
            var ns = metadata.GetString(reference.Namespace);
            names.Add(ns.Length == 0 ? metadata.GetString(reference.Name) : $"{ns}.{metadata.GetString(reference.Name)}");
        }
        return names;
    }
}
