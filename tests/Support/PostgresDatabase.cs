using Dapper;
using Xunit;
using Npgsql;
using Respawn;

namespace RappelRdv.TestSupport;

/// <summary>
/// A database of its own for one test class, on the PostgreSQL that ./test.sh started
/// (ConnectionStrings__Postgres), migrated like production and dropped at the end. It is copied
/// from a template the migrations built once for the whole run (<see cref="MigratedTemplate"/>).
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private readonly string serverConnectionString;

    public PostgresDatabase()
    {
        serverConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set: run the tests through ./test.sh.");
        // What a host gets from the product's Database class (Dapper's snake_case mapping), which a test that uses
        // the stores directly would otherwise get only if some other test, or the migrations, touched that class first.
        System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(typeof(Reminders.Database.Database).TypeHandle);
        Name = $"rappel_test_{Guid.NewGuid():N}";
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = Name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    /// <summary>Read from the migrated schema once: a table a new migration adds is emptied too, with no list to keep.</summary>
    private Respawner? respawner;

    public async Task InitializeAsync()
    {
        await using (var server = new NpgsqlConnection(serverConnectionString))
        {
            await server.OpenAsync();
            await server.ExecuteAsync($"create database {Name} template {await MigratedTemplate.EnsureAsync(serverConnectionString)}");
        }
    }

    /// <summary>
    /// Empties every table of the product (schema <c>public</c>, not Hangfire's; not DbUp's journal) and
    /// restarts their identities, so each test starts clean: Respawn reads the tables and their foreign keys
    /// from the schema the first time, and <see cref="DeletingPostgresAdapter"/> deletes their rows in that order.
    /// </summary>
    public async Task ResetAsync()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        respawner ??= await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = new DeletingPostgresAdapter(),
            SchemasToInclude = ["public"],
            // The schema journal, and the Data Protection keys a running Api keeps in memory: emptying them under
            // it would leave a second Api unable to read the first one's sessions.
            TablesToIgnore = ["schema_versions", "data_protection_keys"],
            WithReseed = true,
        });
        await respawner.ResetAsync(connection);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        // This database's pools only: clearing every pool of the process would break the connections
        // of the test classes running beside this one.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionString));
        // Dropping waits for a checkpoint and for the backends it terminates: on a loaded machine, with
        // other classes dropping theirs at the same time, it is tried again rather than failing the class.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var server = new NpgsqlConnection(serverConnectionString);
                await server.OpenAsync();
                await server.ExecuteAsync(new CommandDefinition($"drop database if exists {Name} with (force)", commandTimeout: 120));
                return;
            }
            catch (NpgsqlException) when (attempt < 3)
            {
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }
}
