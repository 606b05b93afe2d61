using Dapper;
using RappelRdv.Reminders.Appointments;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// A real Worker process killed with SIGKILL while it holds claims it has not started: with a lease of
/// 10 minutes, another Worker sends them within the test's two, which only the killed Worker's lost
/// number (migration 0019) can explain, and each exactly once. Its sends are held before their start
/// by the test, which locks their appointments as a long PUT would. The in-process cases, a live
/// Worker's claims among them, are <see cref="GoneWorkerTests"/>.
/// </summary>
public sealed class WorkerKilledGiveBackTests : WorkerStopTests
{
    private const int Count = 40;
    private const int Held = 8;
    private const string Lease = "00:10:00";

    [Fact]
    public async Task A_killed_workers_claims_not_started_leave_from_another_worker_long_before_their_lease_each_once()
    {
        var settings = TestData.Settings();
        var tenantId = await TestData.CreateTenantAsync(database.DataSource, "killed", settings);
        var store = new AppointmentStore(database.DataSource, TimeProvider.System);
        for (var i = 0; i < Count; i++)
        {
            // 20 hours ahead with a P1D reminder: due at once, the first ones first.
            await store.UpsertAsync(tenantId, settings, $"rdv-{i:D2}",
                TestData.Appointment(TimeProvider.System.GetUtcNow().AddHours(20).AddSeconds(i), $"06 13 00 00 {i:D2}"), CancellationToken.None);
        }

        // The first appointments locked by the test: their sends wait for the lock, claimed and not started.
        await using var holder = await database.DataSource.OpenConnectionAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await holder.ExecuteAsync("select id from appointments where external_id < @last for update", new { last = $"rdv-{Held:D2}" }, hold);

        var first = StartWorker(Lease);
        await WaitUntilAsync(async () => await SentAsync() == Count - Held && await SendingAsync() == Held, TimeSpan.FromSeconds(90));
        // Each claim carries the Worker's number (it holds one before its loops start).
        Assert.Equal(Held, await ScalarAsync("select count(claimed_by) from messages where status = 'sending'"));
        var number = await ScalarAsync("select min(claimed_by) from messages where status = 'sending'");
        Assert.Equal(number, await ScalarAsync("select max(claimed_by) from messages where status = 'sending'"));
        Assert.Equal(0, await ScalarAsync("select count(*) from message_sends"));

        first.Kill(entireProcessTree: true);
        await first.WaitForExitAsync();
        StartWorker(Lease);

        // The killed Worker's claims are taken back while the lock still holds their sends (the waits here, 3 minutes
        // at most, are far from the 10-minute lease); then they leave.
        await WaitUntilAsync(
            async () => await ScalarAsync($"select count(*) from messages where status = 'sending' and claimed_by = {number}") == 0,
            TimeSpan.FromSeconds(90));
        Assert.Equal(Count - Held, twilio.Messages.Count);
        await hold.RollbackAsync();
        await Eventually.UntilAsync(async () => await SentAsync() == Count, () => StateAsync().GetAwaiter().GetResult(), TimeSpan.FromSeconds(90));

        var recipients = twilio.Messages.Select(m => m["To"]).ToList();
        Assert.Equal(Count, recipients.Count);
        Assert.Equal(Count, recipients.Distinct().Count());
    }

    /// <summary>What the messages are, and what the Workers said, when a wait fails.</summary>
    private async Task<string> StateAsync()
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(string Status, string? Error, int? ClaimedBy, int Attempts, long N)>(
            "select status, error, claimed_by, attempts, count(*) from messages group by 1, 2, 3, 4 order by 1");
        return string.Join("\n", rows.Select(r => $"{r.N} × {r.Status} by {r.ClaimedBy} after {r.Attempts} ({r.Error})"))
            + "\nthe Workers said:\n" + string.Join("\n", output.Where(l => !l.Contains("\"Sent {Kind}", StringComparison.Ordinal)).TakeLast(30));
    }

    private Task<long> SendingAsync() => ScalarAsync("select count(*) from messages where status = 'sending'");
}
