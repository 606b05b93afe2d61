using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

public sealed class MigrationTests
{
    [Fact]
    public async Task Several_processes_migrating_at_once_apply_each_script_once()
    {
        await using var database = await EmptyDatabase.CreateAsync("rappel_migrate");
        var connectionString = database.ConnectionString;

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Database.Migrate(connectionString, NullLogger.Instance))));

        await using var connection = new NpgsqlConnection(connectionString);
        var applied = (await connection.QueryAsync<string>("select scriptname from schema_versions")).ToList();
        Assert.Equal(applied.Count, applied.Distinct().Count());
        Assert.Contains(applied, s => s.EndsWith("0001_initial.sql", StringComparison.Ordinal));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from information_schema.tables where table_name = 'messages'"));
    }
}
