using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

public sealed class WorkerHostTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task The_worker_starts_a_Hangfire_server_on_PostgreSQL()
    {
        using var host = BuildHost(database.ConnectionString);

        await host.StartAsync();
        try
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            var servers = await Eventually.ValueAsync(
                () => connection.ExecuteScalarAsync<int>("select count(*) from hangfire.server"), count => count > 0);

            Assert.Equal(1, servers);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task A_worker_started_while_the_database_is_unreachable_waits_for_it_then_starts()
    {
        var target = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString);
        using var gate = TcpGate.Start(target.Host!, target.Port);
        // Frozen: connections are accepted, nothing answers (each attempt times out after 1 s).
        gate.Pause();
        var through = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = gate.Port, Timeout = 1 };
        using var host = BuildHost(through.ToString());

        var starting = host.StartAsync();
        await Eventually.UntilAsync(() => gate.Accepted >= 2, () => $"the worker should have retried ({gate.Accepted} attempts)");

        // It tried again and again, and is still waiting: no crash, no exit.
        Assert.False(starting.IsCompleted);
        gate.Resume();
        await starting.WaitAsync(TimeSpan.FromSeconds(60));
        await using var connection = await database.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("select count(*) from schema_versions where scriptname like '%0007_send_starts.sql'"));
        await host.StopAsync();
    }

    internal static IHost BuildHost(string connectionString, Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.AddRappelWorker();
        return builder.Build();
    }
}
