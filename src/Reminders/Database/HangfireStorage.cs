using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Logging;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace RappelRdv.Reminders.Database;

/// <summary>
/// Hangfire's storage on PostgreSQL (schema <c>hangfire</c>), as the Worker (server) and the Api
/// (dashboard) both use it.
/// <para>
/// Hangfire.PostgreSql creates its tables itself (<c>PrepareSchemaIfNecessary</c>), but two
/// processes doing so at once on an empty database can collide on the DDL, and one of them dies.
/// So the tables are installed first under an advisory lock, as <see cref="Database.Migrate"/>
/// does for ours: a cold start of many Api and Worker processes (or the migration Job) is safe,
/// and Hangfire then finds its schema up to date.
/// </para>
/// </summary>
public static class HangfireStorage
{
    public const string SchemaName = "hangfire";

    // Not DbUp's key: the two installs need not wait for each other.
    internal const long InstallLockKey = 0x5261707065_6C48;

    /// <summary>
    /// Hangfire with this storage and these serializer settings, for the Worker's server and the Api's
    /// dashboard alike: both must agree on them, or the dashboard cannot read the jobs the Worker writes.
    /// </summary>
    /// <param name="maxPoolSize">
    /// Hangfire's own pool (a second one beside the data source's): what its workers and background
    /// processes need, not the data source's size, so that the connections a process may open add up
    /// to a known figure (docs/OPERATIONS.md, "PostgreSQL sizing").
    /// </param>
    public static IServiceCollection AddRappelHangfire(this IServiceCollection services, IConfiguration configuration, int maxPoolSize = 5)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(Database.GetConnectionString(configuration)) { MaxPoolSize = maxPoolSize }.ConnectionString;
        // The host's own storage, registered before AddHangfire (which would otherwise take the static
        // JobStorage.Current): two hosts in one process (the tests) never read or write each other's jobs.
        services.AddSingleton<JobStorage>(_ => CreateStorage(connectionString));
        return services.AddHangfire((provider, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UseLogProvider(new StoppedHostTolerantLogProvider(provider.GetRequiredService<ILoggerFactory>()))
            .UseStorage(provider.GetRequiredService<JobStorage>()));
    }

    /// <summary>
    /// Hangfire's log provider is one static for the whole process, which every starting host sets to
    /// its own logger factory, and a stopped host disposes that factory. A Hangfire class whose static
    /// logger is created after that (<c>PostgreSqlObjectsInstaller</c>'s, at its first install) would
    /// get an <see cref="ObjectDisposedException"/> from its type initializer and be unusable for the
    /// rest of the process. A process runs one host in production; the tests start and stop hundreds,
    /// and one run in nine under CPU stress lost the whole Api test project this way. Such a late class
    /// gets a silent logger instead.
    /// </summary>
    private sealed class StoppedHostTolerantLogProvider(ILoggerFactory factory) : ILogProvider
    {
        private readonly AspNetCoreLogProvider hostProvider = new(factory);

        public ILog GetLogger(string name)
        {
            try
            {
                return hostProvider.GetLogger(name);
            }
            catch (ObjectDisposedException)
            {
                return SilentLog.Instance;
            }
        }

        private sealed class SilentLog : ILog
        {
            public static readonly SilentLog Instance = new();

            public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
        }
    }

    /// <summary>The storage on the <c>hangfire</c> schema. Creating it needs no database.</summary>
    private static PostgreSqlStorage CreateStorage(string connectionString)
    {
        // The schema is installed by MigrationService, which waits for the database: configuring
        // Hangfire must not need it, or a host started while PostgreSQL is down would crash here.
        var options = new PostgreSqlStorageOptions
        {
            SchemaName = SchemaName,
            PrepareSchemaIfNecessary = false,
            QueuePollInterval = TimeSpan.FromSeconds(1),
        };
        return new PostgreSqlStorage(new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, options), options);
    }

    /// <summary>Attempts at Hangfire's install before its deadlock is the caller's (see <see cref="Install(string, Action{NpgsqlConnection, string})"/>).</summary>
    internal const int MaxInstallAttempts = 5;

    public static void Install(string connectionString) => Install(connectionString, PostgreSqlObjectsInstaller.Install);

    /// <summary>
    /// Hangfire's scripts, under the install lock. A script that changes tables other processes are writing to
    /// (an upgrade's <c>alter sequence</c> while the Workers of the previous version enqueue jobs) can deadlock
    /// with them, and PostgreSQL then cancels one side, often the install. Each script runs in a transaction of
    /// its own and records its version, so the install is simply run again: it resumes at the script that was
    /// cancelled, and the writers never wait for more than one script.
    /// </summary>
    internal static void Install(string connectionString, Action<NpgsqlConnection, string> installer)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                InstallOnce(connectionString, installer);
                return;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure
                && attempt < MaxInstallAttempts)
            {
                // At once: the other side of the deadlock has gone on, and holds nothing of ours any more.
            }
        }
    }

    private static void InstallOnce(string connectionString, Action<NpgsqlConnection, string> installer)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using (var lockCommand = new NpgsqlCommand("select pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", InstallLockKey);
            lockCommand.ExecuteNonQuery();
        }

        try
        {
            installer(connection, SchemaName);
        }
        finally
        {
            using var unlock = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", InstallLockKey);
            unlock.ExecuteNonQuery();
        }
    }
}
