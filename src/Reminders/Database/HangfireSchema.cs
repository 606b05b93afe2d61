using Hangfire.PostgreSql;
using Npgsql;

namespace RappelRdv.Reminders.Database;

/// <summary>
/// Hangfire's own tables (schema <c>hangfire</c>). Hangfire.PostgreSql creates them itself
/// (<c>PrepareSchemaIfNecessary</c>), but two processes doing so at once on an empty database can
/// collide on the DDL and one of them dies. Installing them first under an advisory lock, as
/// <see cref="Database.Migrate"/> does for ours, makes a cold start of many Api and Worker
/// processes (or the migration Job) safe; Hangfire then finds its schema up to date.
/// </summary>
public static class HangfireSchema
{
    public const string Name = "hangfire";

    // Not DbUp's key: the two installs need not wait for each other.
    private const long InstallLockKey = 0x5261707065_6C48;

    /// <summary>The storage options the Api (dashboard) and the Worker (server) share.</summary>
    public static PostgreSqlStorageOptions StorageOptions() => new()
    {
        SchemaName = Name,
        PrepareSchemaIfNecessary = true,
        QueuePollInterval = TimeSpan.FromSeconds(1),
    };

    public static void Install(string connectionString)
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
            PostgreSqlObjectsInstaller.Install(connection, Name);
        }
        finally
        {
            using var unlock = new NpgsqlCommand("select pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", InstallLockKey);
            unlock.ExecuteNonQuery();
        }
    }
}
