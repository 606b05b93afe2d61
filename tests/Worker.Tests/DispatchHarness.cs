using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>The Worker's dispatch services on a database of their own, with WireMock standing in for Twilio.</summary>
public sealed class DispatchHarness : IAsyncLifetime
{
    public PostgresDatabase Database { get; } = new();

    public FakeTwilio Twilio { get; } = new();

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));

    private readonly List<ServiceProvider> providers = [];

    public async Task InitializeAsync()
    {
        Twilio.Clock = Clock;
        await Database.InitializeAsync();
    }

    /// <summary>
    /// Awaits work whose waits run on the fake clock (Polly's retry delays): the clock moves on a step
    /// each time <see cref="Eventually"/> looks, until the work is done. The work says nothing when it
    /// starts a wait (FakeTimeProvider shows no timers), so the clock cannot be moved once, exactly
    /// when needed: moved before the wait began, it would only push that wait further off.
    /// </summary>
    public async Task<T> AdvancingClockAsync<T>(Task<T> work, TimeSpan? step = null)
    {
        await Eventually.UntilAsync(
            () =>
            {
                Clock.Advance(work.IsCompleted ? TimeSpan.Zero : step ?? TimeSpan.FromMilliseconds(100));
                return work.IsCompleted;
            },
            () => $"the work was still waiting with the clock at {Clock.GetUtcNow():O}");
        return await work;
    }

    internal ServiceProvider BuildServices(Dictionary<string, string?>? overrides = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = Database.ConnectionString,
            ["PublicBaseUrl"] = "http://rappel.test",
            ["Twilio:AccountSid"] = FakeTwilio.AccountSid,
            ["Twilio:AuthToken"] = FakeTwilio.AuthToken,
            ["Twilio:ApiBaseUrl"] = Twilio.BaseUrl,
            ["Twilio:FromNumber"] = "+33700000000",
            ["Twilio:RetryDelay"] = "00:00:00.050",
            ["Twilio:BreakDuration"] = "00:00:01",
            ["Twilio:BreakerMinimumThroughput"] = "4",
            // The fake answers at once; on a machine loaded by the rest of the suite an answer can still take longer
            // than the product's 5 s, which would make its outcome unknown. Tests of a timeout set their own.
            ["Twilio:RequestTimeout"] = "00:00:30",
        };
        foreach (var (key, value) in overrides ?? [])
        {
            settings[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<TimeProvider>(Clock);
        services.AddReminderSending(configuration, allowPrivateWebhooks: true);
        // What the tick enqueues, without a Hangfire server: EnqueuedJobs records it.
        services.AddSingleton<Hangfire.IBackgroundJobClient, EnqueuedJobs>();
        var provider = services.BuildServiceProvider();
        providers.Add(provider);
        return provider;
    }

    public async Task ResetAsync()
    {
        await Database.ResetAsync();
        Twilio.Reset();
        Clock.AdjustTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    }

    public async Task<(long TenantId, TenantSettings Settings)> TenantAsync(TenantSettings? settings = null)
    {
        settings ??= TestData.Settings();
        return (await TestData.CreateTenantAsync(Database.DataSource, $"t{Guid.NewGuid():N}"[..20], settings), settings);
    }

    /// <summary>An appointment 20 hours ahead: its P1D reminder is due at once.</summary>
    public async Task<long> DueNowAsync(long tenantId, TenantSettings settings, string externalId, string phone = "06 12 34 56 78") =>
        (await BuildServices().GetRequiredService<AppointmentStore>().UpsertAsync(
            tenantId, settings, externalId, TestData.Appointment(Clock.GetUtcNow().AddHours(20), phone), CancellationToken.None)).AppointmentId;

    public async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, parameters))!;
    }

    /// <summary>Waits (bounded) until a session of this database waits for a row lock.</summary>
    public async Task WaitForLockWaitAsync()
    {
        var waiting = await Eventually.ValueAsync(
            () => ScalarAsync<long>("select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"),
            count => count > 0);
        if (waiting == 0)
        {
            throw new TimeoutException("no session waited for a lock in time");
        }
    }

    public async Task<List<(string Kind, string Channel, string Status, string? Error)>> MessagesAsync(long appointmentId)
    {
        await using var connection = await Database.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(string, string, string, string?)>(
            "select kind, channel, status, error from messages where appointment_id = @appointmentId order by due_at, created_at", new { appointmentId });
        return rows.AsList();
    }

    public async Task DisposeAsync()
    {
        foreach (var provider in providers)
        {
            await provider.DisposeAsync();
        }

        Twilio.Dispose();
        await Database.DisposeAsync();
    }
}

/// <summary>A Hangfire client that records what would be enqueued (the tick's slices) and runs nothing.</summary>
internal sealed class EnqueuedJobs : Hangfire.IBackgroundJobClient
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<Hangfire.Common.Job> jobs = new();

    public IReadOnlyList<string> MethodNames => [.. jobs.Select(j => j.Method.Name)];

    public string Create(Hangfire.Common.Job job, Hangfire.States.IState state)
    {
        jobs.Enqueue(job);
        return jobs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool ChangeState(string jobId, Hangfire.States.IState state, string expectedState) => false;
}
