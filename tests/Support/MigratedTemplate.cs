using System.Security.Cryptography;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RappelRdv.Reminders.Database;

namespace RappelRdv.TestSupport;

/// <summary>
/// The product's schema, migrated once per set of migration scripts, for test databases to copy
/// (<c>create database … template …</c> takes a few milliseconds; running the migrations, about
/// half a second, once for every test class). Its name carries a hash of the scripts, so a new or
/// changed migration builds a new template; the three test processes build it under an advisory
/// lock, and it is built under another name and renamed, so a run stopped halfway leaves no
/// half-migrated template behind.
/// </summary>
internal static class MigratedTemplate
{
    private const long BuildLockKey = 0x5261707065_6c54; // "RappelT"

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? built;

    public static string Name { get; } = $"rappel_template_{ScriptsHash()}";

    public static async Task<string> EnsureAsync(string serverConnectionString)
    {
        if (built is not null)
        {
            return built;
        }

        await Gate.WaitAsync();
        try
        {
            if (built is null)
            {
                await BuildAsync(serverConnectionString);
                built = Name;
            }

            return built;
        }
        finally
        {
            Gate.Release();
        }
    }

    private static async Task BuildAsync(string serverConnectionString)
    {
        await using var server = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Pooling = false }.ConnectionString);
        await server.OpenAsync();
        await server.ExecuteAsync("select pg_advisory_lock(@BuildLockKey)", new { BuildLockKey });
        try
        {
            if (await server.ExecuteScalarAsync<bool>("select exists (select 1 from pg_database where datname = @Name)", new { Name }))
            {
                return;
            }

            var building = $"{Name}_building";
            await server.ExecuteAsync($"drop database if exists {building} with (force)");
            await server.ExecuteAsync($"create database {building}");
            // Unpooled: a template must have no connection left open when it is copied or renamed.
            var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = building, Pooling = false }.ConnectionString;
            Database.Migrate(connectionString, NullLogger.Instance);
            await server.ExecuteAsync($"alter database {building} rename to {Name}");

            // Templates of older scripts, left by earlier runs on a cluster kept between runs (./test.sh starts a fresh one).
            var stale = await server.QueryAsync<string>(
                "select datname from pg_database where datname like 'rappel\\_template\\_%' and datname <> @Name", new { Name });
            foreach (var name in stale)
            {
                await server.ExecuteAsync($"drop database if exists {name}");
            }
        }
        finally
        {
            await server.ExecuteAsync("select pg_advisory_unlock(@BuildLockKey)", new { BuildLockKey });
        }
    }

    /// <summary>The names and contents of the migration scripts embedded in the product.</summary>
    private static string ScriptsHash()
    {
        var assembly = typeof(Database).Assembly;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.Contains(".Migrations.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(resource));
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var content = new MemoryStream();
            stream.CopyTo(content);
            hash.AppendData(content.ToArray());
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
