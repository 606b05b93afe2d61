using Dapper;
using Npgsql;

namespace RappelRdv.TestSupport;

/// <summary>
/// A database with nothing in it, not even the schema, on the PostgreSQL that ./test.sh started: for the
/// tests of the migrations themselves. Dropped when disposed.
/// </summary>
public sealed class EmptyDatabase : IAsyncDisposable
{
    private EmptyDatabase(string server, string name)
    {
        Server = server;
        Name = name;
        // Unpooled: a test that migrates leaves no idle session behind to hold the drop back.
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { Database = name, Pooling = false }.ConnectionString;
    }

    /// <summary>The server's own connection string (ConnectionStrings__Postgres of the run).</summary>
    public string Server { get; }

    public string Name { get; }

    public string ConnectionString { get; }

    public static async Task<EmptyDatabase> CreateAsync(string prefix)
    {
        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set: run the tests through ./test.sh.");
        var database = new EmptyDatabase(server, $"{prefix}_{Guid.NewGuid():N}");
        await using var connection = new NpgsqlConnection(server);
        await connection.ExecuteAsync($"create database {database.Name}");
        return database;
    }

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(Server);
        await connection.ExecuteAsync($"drop database if exists {Name} with (force)");
    }
}
