using Dapper;
using Xunit;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RappelRdv.Reminders.Database;

namespace RappelRdv.TestSupport;

/// <summary>
/// A database of its own for one test class, on the PostgreSQL that ./test.sh started
/// (ConnectionStrings__Postgres), migrated like production and dropped at the end.
/// </summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    private readonly string serverConnectionString;

    public PostgresDatabase()
    {
        serverConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set: run the tests through ./test.sh.");
        Name = $"rappel_test_{Guid.NewGuid():N}";
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = Name }.ConnectionString;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string Name { get; }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public async Task InitializeAsync()
    {
        await using (var server = new NpgsqlConnection(serverConnectionString))
        {
            await server.OpenAsync();
            await server.ExecuteAsync($"create database {Name}");
        }

        Database.Migrate(ConnectionString, NullLogger.Instance);
    }

    /// <summary>Empties every table of the product (not Hangfire's), so each test starts clean.</summary>
    public async Task ResetAsync()
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("truncate events, messages, opt_outs, phone_flags, appointments, tenants, twilio_deletions restart identity cascade");
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var server = new NpgsqlConnection(serverConnectionString);
        await server.OpenAsync();
        await server.ExecuteAsync($"drop database if exists {Name} with (force)");
    }
}
