using Dapper;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Hosting;

namespace RappelRdv.Worker.Tests;

/// <summary>The claim loops' (dispatch, events, write-backs) three answers to what a round throws, and their idle wait.</summary>
public sealed class ClaimLoopsTests : IAsyncLifetime
{
    private readonly string applicationName = $"claim-loops-{Guid.NewGuid():N}"[..30];

    private readonly NpgsqlDataSource db;

    private readonly RecordingLogger logger = new();

    public ClaimLoopsTests()
    {
        var server = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
            ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set: run the tests through ./test.sh.");
        db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(server) { ApplicationName = applicationName }.ConnectionString);
    }

    [Fact]
    public void The_stops_cancellation_ends_the_loop_and_logs_nothing()
    {
        using var stop = new CancellationTokenSource();
        stop.Cancel();

        Assert.True(ClaimLoops.EndsLoop(new OperationCanceledException(stop.Token), stop.Token, db, logger, "Dispatch"));
        Assert.Empty(logger.Entries);
    }

    [Fact]
    public void A_cancellation_that_is_not_the_stops_is_logged_and_the_loop_goes_on()
    {
        Assert.False(ClaimLoops.EndsLoop(new TaskCanceledException("an HTTP timeout"), CancellationToken.None, db, logger, "Event delivery"));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.StartsWith("Event delivery: a round failed", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_database_that_does_not_answer_clears_the_pool_and_the_loop_goes_on()
    {
        // One idle connection in the pool, as a loop leaves it between rounds.
        await using (var connection = await db.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("select 1");
        }

        Assert.Equal(1, await SessionsAsync());

        Assert.False(ClaimLoops.EndsLoop(new NpgsqlException("Exception while reading from stream"), CancellationToken.None, db, logger, "Dispatch"));
        Assert.False(ClaimLoops.EndsLoop(new TimeoutException("Timeout during connection attempt"), CancellationToken.None, db, logger, "Dispatch"));

        Assert.Equal([LogLevel.Warning, LogLevel.Warning], logger.Entries.Select(e => e.Level));
        Assert.All(logger.Entries, e => Assert.StartsWith("Dispatch paused: the database does not answer", e.Message, StringComparison.Ordinal));
        // Cleared: the idle connection is closed, not handed to the next round.
        Assert.Equal(0, await Eventually.ValueAsync(SessionsAsync, count => count == 0));
    }

    [Fact]
    public void Anything_else_is_logged_as_an_error_with_its_exception_and_the_loop_goes_on()
    {
        var error = new InvalidOperationException("a bug");

        Assert.False(ClaimLoops.EndsLoop(error, CancellationToken.None, db, logger, "RDV-Solidarités write-backs"));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Same(error, entry.Exception);
    }

    [Fact]
    public async Task The_idle_wait_runs_on_the_loops_clock_and_a_stop_ends_it()
    {
        var clock = new FakeTimeProvider();
        using var stop = new CancellationTokenSource();

        var idle = ClaimLoops.IdleAsync(TimeSpan.FromSeconds(1), clock, stop.Token);
        Assert.False(idle.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await idle);

        var stopped = ClaimLoops.IdleAsync(TimeSpan.FromSeconds(1), clock, stop.Token);
        await stop.CancelAsync();
        Assert.False(await stopped);
    }

    /// <summary>The sessions of this test's pool, seen from another connection.</summary>
    private async Task<long> SessionsAsync()
    {
        await using var other = new NpgsqlConnection(Environment.GetEnvironmentVariable("ConnectionStrings__Postgres"));
        await other.OpenAsync();
        return await other.ExecuteScalarAsync<long>("select count(*) from pg_stat_activity where application_name = @applicationName", new { applicationName });
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await db.DisposeAsync();

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception), exception));
    }
}
