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
            var servers = 0;
            for (var attempt = 0; attempt < 50 && servers == 0; attempt++)
            {
                await Task.Delay(200);
                servers = await connection.ExecuteScalarAsync<int>("select count(*) from hangfire.server");
            }

            Assert.Equal(1, servers);
        }
        finally
        {
            await host.StopAsync();
        }
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
