using Dapper;
using Hangfire;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker.Tests;

public sealed class RetentionJobRegistrationTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_starting_worker_registers_the_nightly_retention_job()
    {
        using var host = WorkerHostTests.BuildHost(database.ConnectionString);

        await host.StartAsync();
        try
        {
            await using var connection = await database.DataSource.OpenConnectionAsync();
            var cron = await connection.ExecuteScalarAsync<string>(
                "select value from hangfire.hash where key = @key and field = 'Cron'",
                new { key = $"recurring-job:{PersonalDataRetention.JobId}" });

            Assert.Equal(Cron.Daily(2, 30), cron);
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
