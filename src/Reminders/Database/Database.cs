using System.Reflection;
using Dapper;
using DbUp;
using DbUp.Engine.Output;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace RappelRdv.Reminders.Database;

public static class Database
{
    public const string ConnectionStringName = "Postgres";

    /// <summary>The connection string of what needs a session of its own (<see cref="GetDirectConnectionString"/>).</summary>
    public const string DirectConnectionStringName = "PostgresDirect";

    // Any number of Api and Worker processes start at once: the first to take this lock
    // migrates, the others wait and then find nothing left to do.
    private const long MigrationLockKey = 0x5261707065_6C52;

    static Database()
    {
        // Columns are snake_case, C# members PascalCase.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public static string GetConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(ConnectionStringName) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "ConnectionStrings__Postgres is not set: give it the PostgreSQL connection string (./run.sh sets it for you).");

    /// <summary>
    /// What needs a session that stays, which a transaction-mode pooler (PgBouncer, CloudNativePG's
    /// <c>Pooler</c>) does not give: the migrations' and Hangfire's install, under session advisory
    /// locks, and the Api's <c>LISTEN tenant_changed</c>. <c>ConnectionStrings__PostgresDirect</c> when
    /// set (the server itself), else <c>ConnectionStrings__Postgres</c>.
    /// </summary>
    public static string GetDirectConnectionString(IConfiguration configuration) =>
        configuration.GetConnectionString(DirectConnectionStringName) is { Length: > 0 } direct ? direct : GetConnectionString(configuration);

    /// <summary>
    /// The data source's pool when the connection string does not set <c>Maximum Pool Size</c>: an Api's
    /// requests each hold one for a few statements, and the bound keeps 1 Api + 2 Workers within
    /// PostgreSQL's default 100 connections (docs/OPERATIONS.md, "PostgreSQL sizing"). A Worker
    /// registers its own size (<see cref="DataSourcePoolSize"/>), computed from its settings.
    /// </summary>
    public const int DefaultPoolSize = 20;

    public static IServiceCollection AddRappelDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = GetConnectionString(configuration);
        services.AddSingleton(sp =>
        {
            var builder = new NpgsqlDataSourceBuilder(connectionString);
            if (!SetsPoolSize(connectionString))
            {
                builder.ConnectionStringBuilder.MaxPoolSize = sp.GetService<DataSourcePoolSize>()?.Connections ?? DefaultPoolSize;
            }

            // The same few statements run all day: let Npgsql prepare them, unless the operator chose otherwise.
            if (!connectionString.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase))
            {
                builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
            }

            // Nothing taken from this pool leaves session state behind (no SET, no session lock, no temporary
            // table, no LISTEN: the Api's tenant listener has its own connection): resetting each connection as
            // it goes back cost PostgreSQL six more statements per request.
            if (!connectionString.Contains("No Reset On Close", StringComparison.OrdinalIgnoreCase))
            {
                builder.ConnectionStringBuilder.NoResetOnClose = true;
            }

            return builder.Build();
        });
        return services;
    }

    /// <summary>Whether the operator chose the pool's size in the connection string.</summary>
    public static bool SetsPoolSize(string connectionString) =>
        connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)
        || connectionString.Contains("MaxPoolSize", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Whether an exception says the database is out of reach for now (down, restarting, paused,
    /// refusing connections) rather than that a statement is wrong: worth a 503 and a retry.
    /// </summary>
    public static bool IsUnreachable(Exception e) => e switch
    {
        // 57P01-57P03: shutting down or starting up; 53300: too many connections; 08*: connection exceptions.
        PostgresException p => p.SqlState is "57P01" or "57P02" or "57P03" or "53300" || p.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient || n.InnerException is TimeoutException or System.Net.Sockets.SocketException or IOException,
        // A timeout or a socket error is the database's only when Npgsql reports it: an HTTP call that timed
        // out (the identity provider's discovery document) wraps a TimeoutException too, and is no 503 of ours.
        _ => e.InnerException is { } inner && IsUnreachable(inner),
    };

    public static void Migrate(string connectionString, ILogger logger)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var lockCommand = new NpgsqlCommand("select pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
            lockCommand.ExecuteNonQuery();
        }

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(Assembly.GetExecutingAssembly(), name => name.Contains(".Migrations.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .JournalToPostgresqlTable("public", "schema_versions")
                .LogTo(new DbUpLogger(logger))
                .Build();

            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Database migration failed on {result.ErrorScript?.Name}", result.Error);
            }
        }
        finally
        {
            using var unlock = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLockKey);
            unlock.ExecuteNonQuery();
        }
    }

    private sealed class DbUpLogger(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }
        public void LogDebug(string format, params object[] args) { }
#pragma warning disable CA2254 // DbUp hands us its own format strings.
        public void LogInformation(string format, params object[] args) => logger.LogInformation(format, args);
        public void LogWarning(string format, params object[] args) => logger.LogWarning(format, args);
        public void LogError(string format, params object[] args) => logger.LogError(format, args);
        public void LogError(Exception ex, string format, params object[] args) => logger.LogError(ex, format, args);
#pragma warning restore CA2254
    }
}

/// <summary>The size a host gives its data source's pool when the connection string leaves it unset.</summary>
public sealed record DataSourcePoolSize(int Connections);
