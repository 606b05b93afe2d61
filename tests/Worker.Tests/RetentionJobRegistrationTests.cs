using Dapper;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker.Tests;

/// <summary>Hangfire holds two recurring jobs: the minute's tick and the nightly retention; an upgrade drops the older ones.</summary>
public sealed class RetentionJobRegistrationTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_starting_worker_registers_only_the_tick_and_the_nightly_retention_and_drops_the_retired_jobs()
    {
        // A deployment upgraded from a version that had more recurring jobs.
        using (var older = WorkerHostTests.BuildHost(database.ConnectionString))
        {
            await older.StartAsync();
            var recurring = older.Services.GetRequiredService<IRecurringJobManager>();
            foreach (var retired in new[] { "erase-at-twilio", "twilio-balance", "budget-watch", "recover-stuck-sends" })
            {
                recurring.AddOrUpdate<DispatchJobs>(retired, j => j.Tick(), Cron.Hourly());
            }

            Assert.Equal(6, (await RecurringJobsAsync()).Count);
            await older.StopAsync();
        }

        using var host = WorkerHostTests.BuildHost(database.ConnectionString);
        await host.StartAsync();
        try
        {
            Assert.Equal([DispatchJobs.TickJobId, PersonalDataRetention.JobId], await RecurringJobsAsync());
            await using var connection = await database.DataSource.OpenConnectionAsync();
            Assert.Equal(Cron.Daily(2, 30), await CronAsync(connection, PersonalDataRetention.JobId));
            Assert.Equal(Cron.Minutely(), await CronAsync(connection, DispatchJobs.TickJobId));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private async Task<List<string>> RecurringJobsAsync()
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<string>("select value from hangfire.set where key = 'recurring-jobs' order by value")).AsList();
    }

    private static Task<string?> CronAsync(Npgsql.NpgsqlConnection connection, string jobId) =>
        connection.ExecuteScalarAsync<string>("select value from hangfire.hash where key = @key and field = 'Cron'", new { key = $"recurring-job:{jobId}" });
}
