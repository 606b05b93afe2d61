using System.Diagnostics;
using Dapper;
using RappelRdv.Reminders.Appointments;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// Real Worker processes stopped in the middle of a burst: killed (SIGKILL, <see cref="WorkerKillTests"/>),
/// or stopped as a deploy does (SIGTERM, <see cref="WorkerSigtermTests"/>). Twilio's answers are held
/// by the test, so that the stop surely finds sends in flight. Two classes, so that the two run at
/// the same time: each waits mostly on the Worker it started.
/// </summary>
public abstract class WorkerStopTests : IAsyncLifetime
{
    protected const int Appointments = 300;

    // Enough for sends in flight and claims left at the signal; fewer keep the suite short.
    protected const int StopAppointments = 120;
    private protected readonly PostgresDatabase database = new();
    private protected readonly FakeTwilio twilio = new();
    private readonly List<Process> processes = [];
    private protected readonly System.Collections.Concurrent.ConcurrentQueue<string> output = new();
    private protected readonly System.Collections.Concurrent.ConcurrentQueue<string> errors = new();

    /// <summary>Sends the process SIGTERM, as a deploy does.</summary>
    protected static async Task TerminateAsync(Process worker)
    {
        using var kill = Process.Start("kill", ["-TERM", worker.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    public Task InitializeAsync() => database.InitializeAsync();

    private async Task DueNowAsync(int count)
    {
        var settings = TestData.Settings();
        var tenantId = await TestData.CreateTenantAsync(database.DataSource, "crash", settings);
        var store = new AppointmentStore(database.DataSource, TimeProvider.System);
        for (var i = 0; i < count; i++)
        {
            // 20 hours ahead with a P1D reminder: due at once.
            await store.UpsertAsync(tenantId, settings, $"rdv-{i}",
                TestData.Appointment(TimeProvider.System.GetUtcNow().AddHours(20), $"06 12 {i / 10000:D2} {i / 100 % 100:D2} {i % 100:D2}"), CancellationToken.None);
        }
    }

    /// <summary>
    /// <paramref name="count"/> messages due now and a Worker sending them; once <paramref name="sentFirst"/>
    /// are sent, Twilio holds its answers until at least four requests wait on it: the Worker has sends in flight.
    /// </summary>
    protected async Task<Process> StartBurstAndHoldAsync(int count, string lease, int sentFirst, string? stopTimeout = null)
    {
        await DueNowAsync(count);
        var worker = StartWorker(lease, stopTimeout);
        await WaitUntilAsync(async () => await SentAsync() >= sentFirst, TimeSpan.FromSeconds(60));
        twilio.HoldAnswers();
        await twilio.WaitForRequestsAsync(twilio.Received + 4);
        return worker;
    }

    protected Process StartWorker(string lease, string? stopTimeout = null)
    {
        var dll = typeof(DispatchJobs).Assembly.Location;
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["ConnectionStrings__Postgres"] = database.ConnectionString,
                ["Twilio__AccountSid"] = FakeTwilio.AccountSid,
                ["Twilio__AuthToken"] = FakeTwilio.AuthToken,
                ["Twilio__ApiBaseUrl"] = twilio.BaseUrl,
                ["Twilio__FromNumber"] = "+33700000000",
                ["Dispatch__ClaimLease"] = lease,
                ["Dispatch__RecoveryInterval"] = "00:00:02",
                ["Dispatch__BatchSize"] = "20",
                ["Dispatch__Slices"] = "2",
                // Fewer sends in flight than messages, so that the stop finds claims not started as well as sends at
                // Twilio (with the default 128 a loop, 2 loops take the whole burst at once).
                ["Dispatch__Parallelism"] = "8",
                // Longer than any hold of the test: a request in flight at the signal is answered, not timed out.
                ["Twilio__RequestTimeout"] = "00:01:00",
                ["Twilio__ValidityPeriod"] = "00:01:00",
            },
        };
        if (stopTimeout is not null)
        {
            start.Environment["Worker__StopTimeout"] = stopTimeout;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => { if (line.Data is { } data) { output.Enqueue(data); } };
        process.ErrorDataReceived += (_, line) => { if (line.Data is { } data) { errors.Enqueue(data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add(process);
        return process;
    }

    protected Task<long> SentAsync() => ScalarAsync("select count(*) from messages where status = 'sent'");

    protected async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    /// <summary>The Worker's last lines of output, without the one logged for each send.</summary>
    private protected string WorkerSaid(int lines) =>
        string.Join("\n", output.Where(l => !l.Contains("\"Sent {Kind}", StringComparison.Ordinal)).TakeLast(lines));

    protected async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        if (!await Eventually.ValueAsync(condition, held => held, timeout))
        {
            // What was left, to tell a slow machine from a stuck claim when it happens in CI.
            await using var connection = await database.DataSource.OpenConnectionAsync();
            var left = await connection.QueryAsync<(string Status, string? Error, bool Started, long Count)>(
                """
                select m.status, m.error, exists (select 1 from message_sends s where s.message_id = m.id), count(*)
                from messages m where m.status <> 'sent' group by 1, 2, 3 order by 1, 2, 3
                """);
            throw new TimeoutException(
                $"not reached within {timeout}; not sent: {string.Join("; ", left.Select(l => $"{l.Count} {l.Status} ({l.Error ?? "no error"}, start recorded: {l.Started})"))}; "
                + $"Twilio took {twilio.Messages.Count}; the Worker said: " + WorkerSaid(15));
        }
    }

    public async Task DisposeAsync()
    {
        twilio.ReleaseAnswers();
        foreach (var process in processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        twilio.Dispose();
        await database.DisposeAsync();
    }
}

public sealed class WorkerKillTests : WorkerStopTests
{
    [Fact]
    public async Task A_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice()
    {
        var first = await StartBurstAndHoldAsync(Appointments, lease: "00:00:03", sentFirst: 40);
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        var sendingAtKill = await ScalarAsync("select count(*) from messages where status = 'sending'");
        // Twilio answers the requests of the dead Worker: it has those messages, nobody recorded them.
        twilio.ReleaseAnswers();

        StartWorker(lease: "00:00:03");
        // A send killed after its start was recorded but before its request left is not listed by
        // Twilio: it is sent again only after Twilio__ValidityPeriod (its shortest, one minute, here)
        // plus the lease. Under load that window is sometimes hit, hence the wait beyond 60 s.
        await WaitUntilAsync(async () => await SentAsync() == Appointments, TimeSpan.FromSeconds(150));

        Assert.True(sendingAtKill >= 4, $"the kill should have left messages in flight ({sendingAtKill})");
        Assert.Equal(Appointments, await SentAsync());
        var recipients = twilio.Messages.Select(m => m["To"]).ToList();
        Assert.Equal(Appointments, recipients.Distinct().Count());
        Assert.Equal(Appointments, recipients.Count);
    }
}

public sealed class WorkerSigtermTests : WorkerStopTests
{
    [Fact]
    public async Task A_worker_stopped_with_SIGTERM_finishes_its_sends_and_gives_back_the_rest_at_once()
    {
        // A lease far longer than the test: anything left sending would still be sending at the end.
        var worker = await StartBurstAndHoldAsync(StopAppointments, lease: "01:00:00", sentFirst: 20);

        await TerminateAsync(worker);
        twilio.ReleaseAnswers();
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(40)))
        {
            await worker.WaitForExitAsync(exit.Token);
        }

        // A clean stop, within Worker__StopTimeout: a stop cut short exits with 1 (WorkerStopOverrunTests).
        Assert.Equal(0, worker.ExitCode);
        var sent = await SentAsync();
        var sending = await ScalarAsync("select count(*) from messages where status = 'sending'");
        Assert.True(sending == 0, $"{sending} left sending; the Worker said: " + WorkerSaid(25));
        Assert.Equal(StopAppointments - sent, await ScalarAsync("select count(*) from messages where status = 'pending'"));
        // Every request that reached Twilio was recorded: none is sent again by the next Worker.
        Assert.Equal(sent, twilio.Messages.Count);

        StartWorker(lease: "01:00:00");
        await WaitUntilAsync(async () => await SentAsync() == StopAppointments, TimeSpan.FromSeconds(90));
        var recipients = twilio.Messages.Select(m => m["To"]).ToList();
        Assert.Equal(StopAppointments, recipients.Count);
        Assert.Equal(StopAppointments, recipients.Distinct().Count());
    }
}

public sealed class WorkerStopOverrunTests : WorkerStopTests
{
    [Fact]
    public async Task A_stop_that_outlasts_the_stop_timeout_exits_with_one_line_and_the_next_worker_takes_over_at_once()
    {
        // Twilio answers nothing until the Worker is gone: its loops wait for their sends in flight past the 4 s allowed.
        var worker = await StartBurstAndHoldAsync(StopAppointments, lease: "01:00:00", sentFirst: 20, stopTimeout: "00:00:04");
        var stoppedAt = Stopwatch.StartNew();
        await TerminateAsync(worker);
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(40)))
        {
            await worker.WaitForExitAsync(exit.Token);
        }

        stoppedAt.Stop();
        // Cut short and said so in one line, not an abort (exit 134, with an unhandled exception's stack trace).
        Assert.True(worker.ExitCode == 1, $"exit code {worker.ExitCode} after {stoppedAt.Elapsed.TotalSeconds:0.0} s; the Worker said: " + WorkerSaid(25));
        Assert.Contains(output, l => l.Contains("outlasted Worker__StopTimeout", StringComparison.Ordinal));
        Assert.DoesNotContain(errors, l => l.Contains("Unhandled exception", StringComparison.Ordinal));

        // Its sends in flight reached Twilio; with a lease of an hour, only the gone Worker's number lets
        // the next one take them (and the claims it had not started) back within the test.
        twilio.ReleaseAnswers();
        StartWorker(lease: "01:00:00");
        await WaitUntilAsync(async () => await SentAsync() == StopAppointments, TimeSpan.FromSeconds(90));
        var recipients = twilio.Messages.Select(m => m["To"]).ToList();
        Assert.Equal(StopAppointments, recipients.Count);
        Assert.Equal(StopAppointments, recipients.Distinct().Count());
    }
}
