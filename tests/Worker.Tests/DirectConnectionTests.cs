using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// The migrations (ours and Hangfire's install) take session advisory locks, which a transaction-mode
/// pooler does not keep: they run on <c>ConnectionStrings__PostgresDirect</c> when it is set, whatever
/// <c>ConnectionStrings__Postgres</c> (the pools' way in) is.
/// </summary>
public sealed class DirectConnectionTests
{
    [Fact]
    public async Task The_migrations_run_on_the_direct_connection_string_even_when_the_pooled_one_leads_nowhere()
    {
        await using var database = await EmptyDatabase.CreateAsync("rappel_direct");
        // Nothing listens on port 1: through this one the migration would wait for the database for ever.
        var nowhere = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = 1, Timeout = 1 }.ConnectionString;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = nowhere,
            ["ConnectionStrings:PostgresDirect"] = database.ConnectionString,
        }).Build();

        using var bound = new CancellationTokenSource(Eventually.DefaultTimeout);
        await new MigrationService(configuration, TimeProvider.System, NullLogger<MigrationService>.Instance).StartAsync(bound.Token);

        await using var connection = new NpgsqlConnection(database.ConnectionString);
        Assert.Contains(await connection.QueryAsync<string>("select scriptname from schema_versions"), s => s.EndsWith("0001_initial.sql", StringComparison.Ordinal));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>(
            "select count(*) from information_schema.tables where table_schema = @SchemaName and table_name = 'job'", new { HangfireStorage.SchemaName }));
    }
}
