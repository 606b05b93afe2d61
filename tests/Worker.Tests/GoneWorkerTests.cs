using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.RdvSolidarites;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;
using RappelRdv.Worker.Events;
using RappelRdv.Worker.Hosting;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// Claims of a Worker that is gone come back at once, not after their lease (migration 0019,
/// docs/ARCHITECTURE.md "A claimer that is gone"). Each Worker here is a real <see cref="WorkerPresence"/>
/// (its own session, its number's lock); "gone" is its session ended. The clock never moves: the lease
/// (2 min) never ends, so only the Worker's absence can explain what is taken back. The same with real
/// processes killed by SIGKILL: <see cref="WorkerKilledGiveBackTests"/>.
/// </summary>
public sealed class GoneWorkerTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Lease = new DispatchOptions().ClaimLease;

    private readonly List<WorkerPresence> presences = [];

    public Task InitializeAsync() => harness.ResetAsync();

    public async Task DisposeAsync()
    {
        foreach (var presence in presences)
        {
            await presence.StopAsync(None);
        }
    }

    /// <summary>A Worker's presence, holding its number.</summary>
    private async Task<(WorkerPresence Presence, int Number)> WorkerAsync()
    {
        var presence = harness.BuildServices().GetRequiredService<WorkerPresence>();
        presences.Add(presence);
        await presence.StartAsync(None);
        await presence.Held.WaitAsync(Eventually.DefaultTimeout);
        return (presence, presence.Number!.Value);
    }

    /// <summary>The Worker's session ends (as when its process is killed); returns once PostgreSQL has let its lock go.</summary>
    private async Task GoneAsync(WorkerPresence presence, int number)
    {
        await presence.StopAsync(None);
        Assert.Null(presence.Number);
        await Eventually.UntilAsync(
            async () => await harness.ScalarAsync<long>(
                "select count(*) from pg_locks where locktype = 'advisory' and classid = @LockClass and objid = @number::oid",
                new { Claimers.LockClass, number }) == 0,
            () => $"the lock of number {number} was still held");
    }

    /// <summary>What a claim by Worker <paramref name="number"/> leaves on the message of <paramref name="externalId"/>.</summary>
    private async Task<(Guid Id, Guid Token)> ClaimAsync(string externalId, int number)
    {
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<(Guid, Guid)>(
            """
            update messages m set status = 'sending', claim_token = gen_random_uuid(), claimed_at = @now, claimed_by = @number,
                body = 'Rappel ' || a.external_id
            from appointments a where a.id = m.appointment_id and a.external_id = @externalId
            returning m.id, m.claim_token
            """,
            new { externalId, number, now = harness.Clock.GetUtcNow() });
    }

    /// <summary>One appointment due now, and its message claimed by a new live Worker.</summary>
    private async Task<(WorkerPresence Presence, int Number, Guid Id, Guid Token)> ClaimedByNewWorkerAsync(string externalId, string phone)
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, externalId, phone);
        var (presence, number) = await WorkerAsync();
        var (id, token) = await ClaimAsync(externalId, number);
        return (presence, number, id, token);
    }

    private Task<string> StatusOfAsync(string externalId) => harness.ScalarAsync<string>(
        "select m.status from messages m join appointments a on a.id = m.appointment_id where a.external_id = @externalId", new { externalId });

    [Fact]
    public async Task A_gone_workers_claim_not_started_goes_back_at_once_and_a_live_workers_claim_is_not_taken()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        await harness.DueNowAsync(tenantId, settings, "gone", "06 11 11 11 11");
        await harness.DueNowAsync(tenantId, settings, "live", "06 22 22 22 22");
        var (gone, goneNumber) = await WorkerAsync();
        var (_, liveNumber) = await WorkerAsync();
        Assert.NotEqual(goneNumber, liveNumber);
        await ClaimAsync("gone", goneNumber);
        await ClaimAsync("live", liveNumber);
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        // Both alive, the lease running: nothing is taken.
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
        await GoneAsync(gone, goneNumber);
        Assert.Equal(1, await dispatcher.RecoverAsync(None));

        Assert.Equal("pending", await StatusOfAsync("gone"));
        Assert.Equal("sending", await StatusOfAsync("live"));
        // Never started: given back without asking Twilio.
        Assert.Equal(0, harness.Twilio.ListRequests);
        await dispatcher.DispatchDueAsync(None);
        var sms = Assert.Single(harness.Twilio.Messages);
        Assert.Equal("+33611111111", sms["To"]);
        Assert.Equal("sent", await StatusOfAsync("gone"));
        Assert.Equal("sending", await StatusOfAsync("live"));
        Assert.Equal(0, await dispatcher.RecoverAsync(None));
    }

    [Fact]
    public async Task A_gone_workers_started_send_is_looked_up_at_Twilio_at_once_and_not_sent_again()
    {
        var (worker, number, id, token) = await ClaimedByNewWorkerAsync("at-twilio", "06 33 33 33 33");
        var starts = harness.BuildServices().GetRequiredService<SendStarts>();
        await starts.RecordAsync(id, token, harness.Clock.GetUtcNow());
        // Its request reached Twilio; then the Worker died before writing the answer.
        await PostSmsAsync("+33633333333", "Rappel at-twilio");
        await GoneAsync(worker, number);
        var dispatcher = harness.BuildServices().GetRequiredService<Dispatcher>();

        Assert.Equal(1, await dispatcher.RecoverAsync(None));

        Assert.Equal("sent", await StatusOfAsync("at-twilio"));
        Assert.Equal(1, harness.Twilio.ListRequests);
        Assert.Equal(harness.Twilio.Messages[0]["Sid"], await harness.ScalarAsync<string>("select provider_id from messages where id = @id", new { id }));
        await dispatcher.DispatchDueAsync(None);
        Assert.Single(harness.Twilio.Messages);
    }

    [Fact]
    public async Task A_live_worker_whose_claim_was_taken_while_its_number_was_lost_cannot_record_its_start_so_its_send_never_leaves()
    {
        var (worker, number, id, token) = await ClaimedByNewWorkerAsync("blip", "06 44 44 44 44");
        // The Worker's presence session dropped; the Worker itself is alive, its send about to record its start.
        await GoneAsync(worker, number);
        var starts = harness.BuildServices().GetRequiredService<SendStarts>();
        var now = harness.Clock.GetUtcNow();

        // Another Worker's recovery, one step at a time: it takes the claim under the number's lock...
        await using var recovery = await harness.Database.DataSource.OpenConnectionAsync();
        await using var transaction = await recovery.BeginTransactionAsync();
        var stuck = await MessageStates.LockStuckAsync(recovery, transaction, id, token, claimedBefore: now - Lease);
        Assert.NotNull(stuck);
        Assert.Null(stuck.StartedAt);
        // ...the start record of the live Worker waits for that lock...
        var start = starts.RecordAsync(id, token, now);
        await harness.WaitForLockWaitAsync();
        Assert.False(start.IsCompleted);
        // ...and, recovery having given the claim back, finds it gone: nothing recorded, so the request must not leave.
        await MessageStates.ReconcileNeverSentAsync(recovery, transaction, stuck, "reconciled: claimed but never sent", now);
        await transaction.CommitAsync();

        await Assert.ThrowsAsync<MessageStates.ClaimTakenException>(() => start);
        Assert.Equal(0, await harness.ScalarAsync<long>("select count(*) from message_sends"));
        Assert.Equal("pending", await StatusOfAsync("blip"));
    }

    [Fact]
    public async Task While_its_worker_holds_its_number_a_young_claim_cannot_be_taken_over()
    {
        var (_, number, id, token) = await ClaimedByNewWorkerAsync("alive", "06 55 55 55 55");
        var now = harness.Clock.GetUtcNow();

        await using var recovery = await harness.Database.DataSource.OpenConnectionAsync();
        await using (var transaction = await recovery.BeginTransactionAsync())
        {
            Assert.Null(await MessageStates.LockStuckAsync(recovery, transaction, id, token, claimedBefore: now - Lease));
        }

        // Its start records are not held back by that attempt.
        await harness.BuildServices().GetRequiredService<SendStarts>().RecordAsync(id, token, now);
        Assert.Equal(1, await harness.ScalarAsync<long>("select count(*) from message_sends"));
        // Past the lease, the old rule applies whoever holds it: the claim is reconciled, from its start record.
        await using (var transaction = await recovery.BeginTransactionAsync())
        {
            var stuck = await MessageStates.LockStuckAsync(recovery, transaction, id, token, claimedBefore: now.AddSeconds(1));
            Assert.NotNull(stuck);
            Assert.NotNull(stuck.StartedAt);
        }
    }

    [Fact]
    public async Task Events_claimed_by_a_gone_worker_are_due_again_at_once_and_a_live_workers_are_left_alone()
    {
        var (tenantId, _) = await harness.TenantAsync();
        var (gone, goneNumber) = await WorkerAsync();
        var (_, liveNumber) = await WorkerAsync();
        var now = harness.Clock.GetUtcNow();
        var goneEvent = Guid.NewGuid();
        var liveEvent = Guid.NewGuid();
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            // As a claim leaves them: leased for a minute, one attempt counted, the claimer's number.
            await connection.ExecuteAsync(
                """
                insert into events (id, tenant_id, type, payload, created_at, status, attempts, next_attempt_at, claimed_by)
                values (@goneEvent, @tenantId, 'message.sent', '{}', @now, 'pending', 1, @leased, @goneNumber),
                       (@liveEvent, @tenantId, 'message.sent', '{}', @now, 'pending', 1, @leased, @liveNumber)
                """,
                new { goneEvent, liveEvent, tenantId, now, leased = now.AddMinutes(1), goneNumber, liveNumber });
        }

        var delivery = harness.BuildServices().GetRequiredService<EventDelivery>();
        Assert.Equal(0, await delivery.GiveBackGoneAsync(None));
        await GoneAsync(gone, goneNumber);
        Assert.Equal(1, await delivery.GiveBackGoneAsync(None));

        var events = (await QueryAsync<(Guid Id, int Attempts, DateTime NextAttemptAt, int? ClaimedBy)>(
            "select id, attempts, next_attempt_at, claimed_by from events")).ToDictionary(e => e.Id);
        Assert.Equal((0, now.UtcDateTime, (int?)null), (events[goneEvent].Attempts, events[goneEvent].NextAttemptAt, events[goneEvent].ClaimedBy));
        Assert.Equal((1, now.AddMinutes(1).UtcDateTime, (int?)liveNumber), (events[liveEvent].Attempts, events[liveEvent].NextAttemptAt, events[liveEvent].ClaimedBy));
    }

    [Fact]
    public async Task A_write_back_claimed_by_a_gone_worker_is_due_again_at_once_and_a_live_workers_is_left_alone()
    {
        var (tenantId, settings) = await harness.TenantAsync();
        var goneAppointment = await harness.DueNowAsync(tenantId, settings, "wb-gone", "06 66 66 66 66");
        var liveAppointment = await harness.DueNowAsync(tenantId, settings, "wb-live", "06 77 77 77 77");
        var (gone, goneNumber) = await WorkerAsync();
        var (_, liveNumber) = await WorkerAsync();
        var now = harness.Clock.GetUtcNow();
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into rdvs_writebacks (appointment_id, tenant_id, participation_id, status, created_at, updated_at, next_attempt_at)
            select id, tenant_id, id + 1000, 'pending', @now, @now, @now from appointments where id = any(@ids)
            """,
            new { now, ids = new[] { goneAppointment, liveAppointment } });
        // Each Worker claims one (the claim stamps its number).
        Assert.Single(await WriteBacks.ClaimAsync(connection, 1, 1, TimeSpan.FromMinutes(1), goneNumber, now, None));
        Assert.Single(await WriteBacks.ClaimAsync(connection, 1, 1, TimeSpan.FromMinutes(1), liveNumber, now, None));
        var claimedBy = (await QueryAsync<int?>("select claimed_by from rdvs_writebacks order by claimed_by")).ToList();
        Assert.Equal([Math.Min(goneNumber, liveNumber), Math.Max(goneNumber, liveNumber)], claimedBy);

        Assert.Equal(0, await WriteBacks.GiveBackGoneAsync(connection, now, None));
        await GoneAsync(gone, goneNumber);
        Assert.Equal(1, await WriteBacks.GiveBackGoneAsync(connection, now, None));

        // The gone Worker's is due now, its attempt not counted; the live one's stays leased, and nobody can claim it.
        var due = Assert.Single(await WriteBacks.ClaimAsync(connection, 8, 2, TimeSpan.FromMinutes(1), liveNumber, now, None));
        Assert.Equal(goneAppointment, due.AppointmentId);
        Assert.Equal(1, due.Attempts);
    }

    [Fact]
    public async Task The_number_is_held_on_the_direct_connection_even_when_the_pooled_one_leads_nowhere()
    {
        // Nothing listens on port 1: a session lock taken through the pooled string (a transaction pooler) would not hold.
        var nowhere = new NpgsqlConnectionStringBuilder(harness.Database.ConnectionString) { Host = "127.0.0.1", Port = 1, Timeout = 1 }.ConnectionString;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = nowhere,
            ["ConnectionStrings:PostgresDirect"] = harness.Database.ConnectionString,
        }).Build();
        var presence = new WorkerPresence(configuration, TimeProvider.System, NullLogger<WorkerPresence>.Instance);
        presences.Add(presence);

        await presence.StartAsync(None);
        await presence.Held.WaitAsync(Eventually.DefaultTimeout);

        // Held by a session of its own, which names itself.
        Assert.Equal("rappel-worker worker-presence", await harness.ScalarAsync<string>(
            """
            select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.classid = @LockClass and l.objid = @number::oid and l.granted
            """,
            new { Claimers.LockClass, number = presence.Number }));
    }

    private async Task<IEnumerable<T>> QueryAsync<T>(string sql)
    {
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        return await connection.QueryAsync<T>(sql);
    }

    private async Task PostSmsAsync(string to, string body)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Basic",
            Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes($"{FakeTwilio.AccountSid}:{FakeTwilio.AuthToken}")));
        using var created = await http.PostAsync($"{harness.Twilio.BaseUrl}/2010-04-01/Accounts/{FakeTwilio.AccountSid}/Messages.json",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["To"] = to, ["From"] = "+33700000000", ["Body"] = body }));
        created.EnsureSuccessStatusCode();
    }
}
