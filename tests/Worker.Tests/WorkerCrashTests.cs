using System.Diagnostics;
using Dapper;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>Real Worker processes, one of them killed with SIGKILL in the middle of a burst.</summary>
public sealed class WorkerCrashTests : IAsyncLifetime
{
    private const int Appointments = 300;
    private readonly PostgresDatabase database = new();
    private readonly FakeTwilio twilio = new();
    private readonly List<Process> processes = [];

    public Task InitializeAsync() => database.InitializeAsync();

    [Fact]
    public async Task A_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice()
    {
        var settings = TestData.Settings();
        var tenantId = await TestData.CreateTenantAsync(database.DataSource, "crash", settings);
        var store = new AppointmentStore(database.DataSource, TimeProvider.System);
        for (var i = 0; i < Appointments; i++)
        {
            // 20 hours ahead with a P1D reminder: due at once.
            await store.UpsertAsync(tenantId, settings, $"rdv-{i}",
                TestData.Appointment(TimeProvider.System.GetUtcNow().AddHours(20), $"06 12 {i / 10000:D2} {i / 100 % 100:D2} {i % 100:D2}"), CancellationToken.None);
        }

        twilio.Latency = TimeSpan.FromMilliseconds(100);
        var first = StartWorker();
        await WaitUntilAsync(async () => await SentAsync() >= 40, TimeSpan.FromSeconds(60));
        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        var sendingAtKill = await ScalarAsync("select count(*) from messages where status = 'sending'");

        twilio.Latency = TimeSpan.FromMilliseconds(5);
        StartWorker();
        await WaitUntilAsync(async () => await SentAsync() == Appointments, TimeSpan.FromSeconds(90));

        Assert.True(sendingAtKill > 0, "the kill should have left messages in flight");
        Assert.Equal(Appointments, await SentAsync());
        var recipients = twilio.Messages.Select(m => m["To"]).ToList();
        Assert.Equal(Appointments, recipients.Distinct().Count());
        Assert.Equal(Appointments, recipients.Count);
    }

    private Process StartWorker()
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
                ["Dispatch__ClaimLease"] = "00:00:03",
                ["Dispatch__RecoveryInterval"] = "00:00:02",
                ["Dispatch__BatchSize"] = "20",
                ["Dispatch__Slices"] = "2",
            },
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        processes.Add(process);
        return process;
    }

    private Task<long> SentAsync() => ScalarAsync("select count(*) from messages where status = 'sent'");

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"not reached within {timeout}");
            }

            await Task.Delay(250);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var process in processes.Where(p => !p.HasExited))
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        twilio.Dispose();
        await database.DisposeAsync();
    }
}
