using Dapper;
using Hangfire.PostgreSql;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// Hangfire's install at start-up (<see cref="HangfireStorage.Install(string)"/>) when PostgreSQL cancels it for a
/// deadlock with processes writing jobs (a stress run of the suite saw one: an upgrade script's
/// <c>alter sequence</c> against an enqueue). Each of its scripts commits on its own, so it is run again.
/// </summary>
public sealed class HangfireInstallTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    private static PostgresException Deadlock() => new("deadlock detected", "ERROR", "ERROR", PostgresErrorCodes.DeadlockDetected);

    [Fact]
    public async Task An_install_cancelled_for_a_deadlock_is_run_again_and_completes_the_schema()
    {
        var calls = 0;

        HangfireStorage.Install(database.ConnectionString, (connection, schema) =>
        {
            calls++;
            PostgreSqlObjectsInstaller.Install(connection, schema);
            if (calls < 3)
            {
                // As PostgreSQL does it: a script of the install rolled back, those before it committed.
                throw Deadlock();
            }
        });

        Assert.Equal(3, calls);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        Assert.True(await connection.ExecuteScalarAsync<int>("select version from hangfire.schema") >= 20);
        // The install lock was given back each time: another process can install now.
        Assert.True(await connection.ExecuteScalarAsync<bool>("select pg_try_advisory_lock(@key) and pg_advisory_unlock(@key)", new { key = HangfireStorage.InstallLockKey }));
    }

    [Fact]
    public void An_install_that_deadlocks_every_time_fails_after_a_few_attempts()
    {
        var calls = 0;

        var error = Assert.Throws<PostgresException>(() => HangfireStorage.Install(database.ConnectionString, (_, _) =>
        {
            calls++;
            throw Deadlock();
        }));

        Assert.Equal(PostgresErrorCodes.DeadlockDetected, error.SqlState);
        Assert.Equal(HangfireStorage.MaxInstallAttempts, calls);
    }

    [Fact]
    public void Any_other_error_of_the_install_is_not_retried()
    {
        var calls = 0;

        Assert.Throws<PostgresException>(() => HangfireStorage.Install(database.ConnectionString, (_, _) =>
        {
            calls++;
            throw new PostgresException("syntax error", "ERROR", "ERROR", PostgresErrorCodes.SyntaxError);
        }));

        Assert.Equal(1, calls);
    }
}
