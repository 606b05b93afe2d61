using System.Collections.Concurrent;
using System.Diagnostics;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Budgets;
using RappelRdv.Reminders.Delivery;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;
using RappelRdv.Reminders.Twilio;
using RappelRdv.Worker.Billing;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// Claims due messages and sends them, exactly once in the eyes of the citizen. Every status change
/// goes through <see cref="MessageStates"/>, which says why it is safe; here:
/// <list type="number">
/// <item>a claim moves a few messages from <c>pending</c> to <c>sending</c> (<c>FOR UPDATE SKIP LOCKED</c>),
/// never more than there are free send slots, so that a Worker that dies strands little;</item>
/// <item>before sending, the message and its appointment are locked and read again and every rule is
/// checked (<see cref="SendRules"/>); both locks are held until Twilio's answer is committed, so a PUT,
/// a DELETE, another send of the same appointment or recovery waits for it and never races it;</item>
/// <item>just before the request leaves, the send is recorded as started (committed on its own
/// connection, in a group with the sends leaving at the same moment: <see cref="SendStarts"/>; the
/// request waits for that commit): a claim without that record never reached Twilio and can go back
/// to <c>pending</c> at once;</item>
/// <item>a crash or a lost answer leaves the message <c>sending</c>: <see cref="RecoverAsync"/> asks
/// Twilio whether it has it before anything else is done.</item>
/// </list>
/// Stopping (<c>SIGTERM</c>) claims nothing more, lets the requests already at Twilio finish, and gives
/// back at once the claims that had not started.
/// </summary>
internal sealed class Dispatcher(
    NpgsqlDataSource db, SendStarts starts, IMessageProvider provider, CallbackUrls urls, IOptions<TwilioOptions> twilio, TimeProvider clock,
    ILogger<Dispatcher> logger, DispatchOptions options, Hosting.WorkerPresence presence)
{
    /// <summary>
    /// Tenants' settings as parsed, keyed by their text: each claim and each send reads the settings
    /// with the message and would parse them again (a JSON document a message, twice). A changed
    /// setting is a new text, hence a new parse; the memo is emptied when it grows past a few hundred
    /// (old texts are never read again).
    /// </summary>
    private readonly ConcurrentDictionary<string, TenantSettings> parsedSettings = new();

    private const int MaxParsedSettings = 512;

    /// <summary>
    /// Claims and sends what is due until nothing is due, <paramref name="maxClaims"/> are claimed or
    /// <paramref name="stopping"/> fires, and waits for those sends. Returns how many were claimed.
    /// </summary>
    public async Task<int> DispatchDueAsync(CancellationToken stopping, int maxClaims = int.MaxValue)
    {
        var sends = NewSends();
        try
        {
            return await DispatchDueAsync(sends, stopping, maxClaims);
        }
        finally
        {
            await sends.DrainAsync();
        }
    }

    /// <summary>The send slots of a dispatch loop, kept from one round to the next.</summary>
    public SendSlots NewSends() =>
        new(Math.Max(1, Math.Min(options.Parallelism, Math.Max(MinimumSlots, twilio.Value.MaxRequestsPerSecond))), Math.Max(1, options.Groups));

    /// <summary>
    /// Send slots a loop keeps however low the account's rate: slots beyond one second of the rate only wait for
    /// tokens with their rows locked, but a few keep a low rate reached when Twilio answers slowly.
    /// </summary>
    private const int MinimumSlots = 16;

    /// <summary>
    /// One round of a dispatch loop: claims and starts sends in <paramref name="sends"/>' slots until
    /// nothing is due, <paramref name="maxClaims"/> are claimed or <paramref name="stopping"/> fires,
    /// and returns how many were claimed <b>without waiting for them</b>: a send that waits on Twilio
    /// (up to <c>Twilio__RequestTimeout</c>) holds its own slot, not the round, so the next round
    /// claims for the other slots at once. Each claim is sent as one group (<see cref="SendGroupAsync"/>),
    /// which holds one of the loop's <c>Dispatch__Groups</c> connections. The loop drains the slots when it ends.
    /// </summary>
    public async Task<int> DispatchDueAsync(SendSlots sends, CancellationToken stopping, int maxClaims = int.MaxValue)
    {
        var (slots, parallelism) = (sends.Slots, sends.Parallelism);
        // A claim waits until a quarter of the slots are free, then takes as many as are free: what is
        // held but not started stays near zero, and a claim still serves a few sends.
        var claimAtMost = Math.Max(1, Math.Min(options.BatchSize, parallelism));
        var claimAtLeast = Math.Min(claimAtMost, Math.Max(1, parallelism / 4));
        var total = 0;
        while (total < maxClaims && !stopping.IsCancellationRequested)
        {
            var free = 0;
            try
            {
                while (free < claimAtLeast)
                {
                    await slots.WaitAsync(stopping);
                    free++;
                }

                while (free < claimAtMost && slots.Wait(0))
                {
                    free++;
                }

                // And a connection for the group: the sends of one claim share it.
                await sends.Groups.WaitAsync(stopping);
            }
            catch (OperationCanceledException)
            {
                ReleaseSlots(slots, free);
                break;
            }

            List<Draft> drafts;
            try
            {
                drafts = await ClaimAsync(Math.Min(free, maxClaims - total), stopping);
            }
            catch (Exception)
            {
                ReleaseSlots(slots, free);
                ReleaseSlots(sends.Groups, 1);
                if (stopping.IsCancellationRequested)
                {
                    break;
                }

                throw;
            }

            ReleaseSlots(slots, free - drafts.Count);
            if (drafts.Count == 0)
            {
                ReleaseSlots(sends.Groups, 1);
                break;
            }

            total += drafts.Count;
            sends.Add(SendGroupAsync(drafts, sends, stopping));
        }

        return total;
    }

    private static void ReleaseSlots(SemaphoreSlim slots, int count)
    {
        if (count > 0)
        {
            slots.Release(count);
        }
    }

    /// <summary>
    /// Sends one claim's messages as a group sharing one connection (issue 28: 128 sends in flight on a
    /// few connections instead of one each). Round after round, each in its own transaction, until every
    /// message is settled:
    /// <list type="number">
    /// <item>a round takes at most one message of each appointment, so the 15-minute rule of the second
    /// sees the first committed (it goes in the next round);</item>
    /// <item>the first round locks its appointments with <c>SKIP LOCKED</c>: one that a PUT, a reply or
    /// another group holds goes to the next round rather than hold this one's sends back; later rounds
    /// wait for their locks, in the order of the ids (no two groups wait on each other);</item>
    /// <item>its messages are read again, locked, after the appointments' locks (<see cref="SendOneAsync"/>
    /// decides each as a send alone did); the requests leave together, each after its start record's commit,
    /// and each answer is written in the round's transaction as it arrives; one commit when the last
    /// answers.</item>
    /// </list>
    /// What a send alone guaranteed holds for each message of the group: its rows stay locked until its
    /// answer is committed (the price: a PUT of an appointment of the group waits for the group's slowest
    /// answer, at most <c>Twilio__RequestTimeout</c>, rather than its own); nothing leaves without its
    /// committed start record; a commit that fails leaves started sends to recovery, exactly as before.
    /// </summary>
    private async Task SendGroupAsync(List<Draft> drafts, SendSlots sends, CancellationToken stopping)
    {
        await Task.Yield();
        var pending = drafts.Select(d => new GroupedSend(d)).ToList();
        try
        {
            await using var connection = await db.OpenConnectionAsync(stopping);
            var waitForLocks = false;
            while (pending.Count > 0)
            {
                var round = pending.DistinctBy(s => s.Draft.AppointmentId).ToList();
                var next = pending.Except(round).ToList();
                var notLocked = await SendRoundAsync(connection, round, waitForLocks, sends.Slots, stopping);
                pending = [.. notLocked, .. next];
                waitForLocks = true;
            }
        }
        catch (Exception e)
        {
            // The connection or a round's locks failed: nothing of what is left was started.
            if (e is not OperationCanceledException)
            {
                logger.LogError(e, "Dispatch of a group of {Count} messages failed", pending.Count);
            }

            foreach (var send in pending.Where(s => !s.Finished))
            {
                await FinishAsync(send, sends.Slots, e);
            }
        }
        finally
        {
            sends.Groups.Release();
        }
    }

    /// <summary>
    /// One round of a group (<see cref="SendGroupAsync"/>): locks, reads, sends, writes each answer as it
    /// arrives, commits once. Returns the sends whose appointment another transaction held (only when
    /// <paramref name="waitForLocks"/> is false): they go in the next round.
    /// </summary>
    private async Task<List<GroupedSend>> SendRoundAsync(
        NpgsqlConnection connection, List<GroupedSend> round, bool waitForLocks, SemaphoreSlim slots, CancellationToken stopping)
    {
        await using var transaction = await connection.BeginTransactionAsync(stopping);
        // Two round trips for the whole round. The appointments first (a PUT, a DELETE, a reply or another
        // send of the same appointment waits until this round commits), in the order of their ids; then the
        // messages and the account's pause, read by a new statement after those locks: it sees whatever
        // committed meanwhile. (An appointment erased meanwhile is not there: its message reads as gone.)
        var locked = (await connection.QueryAsync<long>(new CommandDefinition(
            waitForLocks
                ? "select id from appointments where id = any(@ids) order by id for update"
                : "select id from appointments where id = any(@ids) order by id for update skip locked",
            new { ids = round.Select(s => s.Draft.AppointmentId).ToArray() },
            transaction,
            cancellationToken: stopping))).ToHashSet();
        var (mine, notLocked) = waitForLocks
            ? (round, [])
            : (round.Where(s => locked.Contains(s.Draft.AppointmentId)).ToList(), round.Where(s => !locked.Contains(s.Draft.AppointmentId)).ToList());
        if (mine.Count == 0)
        {
            return notLocked;
        }

        Dictionary<Guid, MessageSnapshot> snapshots;
        DateTime? pausedUntil;
        await using (var reads = await connection.QueryMultipleAsync(new CommandDefinition(
            $"""
            {MessageSnapshots.Columns}
            where m.id = any(@messageIds)
            for update of m;
            {SendingPause.PausedUntilSql};
            """,
            new { messageIds = mine.Select(s => s.Draft.MessageId).ToArray(), now = clock.GetUtcNow() },
            transaction,
            cancellationToken: stopping)))
        {
            snapshots = (await reads.ReadAsync<MessageSnapshot>()).ToDictionary(m => m.Id, m => m.ShareSettings(parsedSettings));
            pausedUntil = await reads.ReadSingleOrDefaultAsync<DateTime?>();
        }

        var writes = new RoundWrites(connection, transaction);
        await Task.WhenAll(mine.Select(s => SendOneAsync(s, snapshots.GetValueOrDefault(s.Draft.MessageId), pausedUntil, writes, slots, stopping)));
        await WriteAcceptedAsync(writes);

        Exception? failed = null;
        try
        {
            // Not cancelled: a request at Twilio finishes and its answer is written, even while the Worker stops.
            if (writes.Broken)
            {
                // A statement failed: PostgreSQL aborted the transaction, a COMMIT would only roll it back.
                throw new InvalidOperationException("a write of the round failed");
            }

            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            // Not known to be committed: started sends are reconciled by recovery, the others given back, once
            // the round's locks are gone (a give-back would otherwise wait for them).
            logger.LogError(e, "The answers of {Count} messages could not be committed; recovery reconciles them", mine.Count);
            failed = e;
            await RollBackQuietlyAsync(transaction);
        }

        foreach (var send in mine)
        {
            await FinishAsync(send, slots, failed ?? send.Failure);
        }

        return notLocked;
    }

    private static async Task RollBackQuietlyAsync(NpgsqlTransaction transaction)
    {
        try
        {
            await transaction.RollbackAsync(CancellationToken.None);
        }
        catch (Exception)
        {
            // Already ended, or the connection is gone: its locks are gone with it.
        }
    }

    /// <summary>
    /// The round's accepted sends, in one statement: their usage is then counted by one statement whose counter
    /// rows are locked in one order (migration 0020), so that two rounds never wait on each other in a circle.
    /// A failure leaves the round broken: not committed, its sends reconciled by recovery.
    /// </summary>
    private async Task WriteAcceptedAsync(RoundWrites writes)
    {
        var accepted = writes.Sent;
        if (accepted.Count == 0 || writes.Broken)
        {
            return;
        }

        try
        {
            await writes.RunAsync(() => MessageStates.MarkSentAsync(writes.Connection, writes.Transaction, [.. accepted.Select(a => a.Sent)]));
        }
        catch (Exception e)
        {
            logger.LogError(e, "The answers of {Count} messages accepted by Twilio could not be written", accepted.Count);
            return;
        }

        foreach (var (sent, kind, channel, phone) in accepted)
        {
            logger.LogInformation("Sent {Kind} {MessageId} by {Channel} to {Phone}", kind, sent.Id, channel, FrenchPhone.Mask(phone));
        }
    }

    /// <summary>
    /// Ends a send of a group once its round is over: a send that failed before its request may have left
    /// (or, stopping, left nothing) gives its claim back now rather than after the lease, once the round's
    /// locks are gone. Then its slot is free.
    /// </summary>
    private async Task FinishAsync(GroupedSend send, SemaphoreSlim slots, Exception? failure)
    {
        send.Finished = true;
        try
        {
            if (failure is not null && (!send.Handled || failure is StoppedBeforeSendException))
            {
                await ReleaseQuietlyAsync(send.Draft, knownNotSent: failure is StoppedBeforeSendException);
            }
        }
        finally
        {
            send.FreeSlot(slots);
        }
    }

    /// <summary>
    /// One message of a round, decided as a send alone was: the rules on the fresh snapshot, the budget,
    /// then the request and its answer written in the round's transaction (<see cref="RoundWrites"/>: one
    /// statement at a time on the shared connection). Never throws: a failure is kept for <see cref="FinishAsync"/>.
    /// </summary>
    private async Task SendOneAsync(
        GroupedSend send, MessageSnapshot? m, DateTime? pausedUntil, RoundWrites writes, SemaphoreSlim slots, CancellationToken stopping)
    {
        var draft = send.Draft;
        var (claimToken, channel, body) = (draft.ClaimToken, draft.Channel, draft.Body);
        using var span = StartSpan(draft);
        try
        {
            await Task.Yield();
            if (m is null || m.Status != MessageStatus.Sending || m.ClaimToken != claimToken)
            {
                // Taken back meanwhile (recovery after the lease, a release): not ours to send.
                send.Handled = true;
                return;
            }

            stopping.ThrowIfCancellationRequested();
            var now = clock.GetUtcNow();
            var settings = m.TenantSettings;
            var decision = SendRules.Decide(m, settings, now);
            if (decision.Verdict == Verdict.Send && Compose(m) != (channel, body))
            {
                // The appointment changed between the claim and the lock: start again with the new text.
                decision = new SendDecision(Verdict.Defer, "changed while being prepared", now);
            }

            decision = decision.Verdict == Verdict.Send ? await SendGate.CheckAsync(starts.Holds, pausedUntil, m, claimToken, channel, body, settings, now, logger) ?? decision : decision;
            if (decision.Verdict != Verdict.Send)
            {
                await writes.RunAsync(() => SettleAsync(writes.Connection, writes.Transaction, m, claimToken, decision, now));
                send.Handled = true;
                return;
            }

            // Runs once the request may leave (after the rate limiter), before each attempt.
            async Task Starting()
            {
                if (stopping.IsCancellationRequested || writes.Broken)
                {
                    // Stopping, or the round's transaction failed (its answer could not be written): not sent.
                    throw new StoppedBeforeSendException();
                }

                // Waits for the commit of its group of start records (SendStarts): the request leaves only
                // after it. A group that failed sends nothing; its claims wait for recovery, which finds no
                // record and gives them back (given back at once, they would be claimed and fail again at once).
                send.Handled = true;
                await starts.RecordAsync(m.Id, claimToken, clock.GetUtcNow());
            }

            // From here nothing is cancelled: a request at Twilio finishes and its answer is written, even
            // while the Worker stops (Worker__StopTimeout allows for Twilio's request timeout).
            // Except a call's wait for the account's call rate, before anything leaves: at one call a second,
            // a group's calls waiting their turn would hold the stop past the host's timeout. A stopping
            // Worker gives that wait up, and the call goes back to pending (StartCallAsync).
            var result = channel == Channels.Sms
                ? await provider.SendSmsAsync(m.Phone!, body, urls.SmsStatusOf(m.Id), Starting, CancellationToken.None)
                : await provider.StartCallAsync(m.Phone!, urls.VoiceScript(m.Id), urls.VoiceStatus(m.Id), Starting, stopping);
            if (result.Outcome == ProviderOutcome.Accepted)
            {
                // Written with the round's other answers, in one statement, just before its commit (RoundWrites.Accepted).
                writes.Accepted(new SentMessage(m.Id, claimToken, result.Sid!, channel == Channels.Sms ? Gsm7.Segments(body) : null, clock.GetUtcNow()),
                    m.Kind, channel, m.Phone);
            }
            else
            {
                await writes.RunAsync(() => RecordResultAsync(writes.Connection, writes.Transaction, m, claimToken, channel, result, settings, clock.GetUtcNow()));
            }
        }
        catch (Exception e)
        {
            span?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            if (e is not (OperationCanceledException or StoppedBeforeSendException))
            {
                logger.LogError(e, "Dispatch of message {MessageId} failed", draft.MessageId);
            }

            send.Failure = e;
        }
        finally
        {
            // Its answer is in: the slot takes another send at once, while the round waits for its slowest answer.
            // (A send that times out holds its group's connection, not the other sends' slots.)
            send.FreeSlot(slots);
        }
    }

    /// <summary>A claimed message in its group, and how far it went.</summary>
    private sealed class GroupedSend(Draft draft)
    {
        public Draft Draft { get; } = draft;

        /// <summary>True once the claim is settled, or once its request may have left for Twilio: nothing to give back.</summary>
        public bool Handled { get; set; }

        /// <summary>What stopped it, if anything did (kept for the end of the round).</summary>
        public Exception? Failure { get; set; }

        /// <summary>Its round is over (its claim given back if it must be).</summary>
        public bool Finished { get; set; }

        private int slotFreed;

        /// <summary>Gives its send slot back, once: when its answer is in, or when its round ends without it.</summary>
        public void FreeSlot(SemaphoreSlim slots)
        {
            if (Interlocked.Exchange(ref slotFreed, 1) == 0)
            {
                slots.Release();
            }
        }
    }

    /// <summary>
    /// The round's transaction, shared by its sends: one statement at a time (a connection runs one). After
    /// a failed statement the transaction is aborted: <see cref="Broken"/> stops the sends not yet started.
    /// </summary>
    private sealed class RoundWrites(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        private readonly SemaphoreSlim one = new(1, 1);

        public NpgsqlConnection Connection { get; } = connection;

        public NpgsqlTransaction Transaction { get; } = transaction;

        public bool Broken { get; private set; }

        private readonly List<(SentMessage Sent, string Kind, string Channel, string? Phone)> sent = [];

        /// <summary>What Twilio accepted in this round (with what its log line names), written together at its end.</summary>
        public IReadOnlyList<(SentMessage Sent, string Kind, string Channel, string? Phone)> Sent
        {
            get
            {
                lock (sent)
                {
                    return [.. sent];
                }
            }
        }

        public void Accepted(SentMessage message, string kind, string channel, string? phone)
        {
            lock (sent)
            {
                sent.Add((message, kind, channel, phone));
            }
        }

        public async Task RunAsync(Func<Task> write)
        {
            await one.WaitAsync(CancellationToken.None);
            try
            {
                await write();
            }
            catch
            {
                Broken = true;
                throw;
            }
            finally
            {
                one.Release();
            }
        }
    }

    /// <summary>
    /// The send's span (Twilio's request nests in it): its own trace, linked to the span that planned the
    /// message (<see cref="RappelTelemetry.StartProcessing"/>). Ids only: never the number or the text.
    /// </summary>
    private static Activity? StartSpan(Draft draft) => RappelTelemetry.StartProcessing(
        draft.Channel == Channels.Sms ? "send sms" : "send call", draft.Traceparent,
        ("rappel.message.id", draft.MessageId.ToString()), ("rappel.tenant.id", draft.TenantId), ("rappel.message.kind", draft.Kind),
        ("rappel.channel", draft.Channel));

    private async Task ReleaseQuietlyAsync(Draft draft, bool knownNotSent)
    {
        try
        {
            await MessageStates.ReleaseAsync(db, draft.MessageId, draft.ClaimToken, knownNotSent, clock.GetUtcNow());
        }
        catch (Exception e)
        {
            // The lease and recovery will give it back: it has no record of a start.
            logger.LogWarning(e, "Could not give back message {MessageId}; recovery will", draft.MessageId);
        }
    }

    /// <summary>Thrown before a request leaves, when the Worker is stopping: nothing was sent by this attempt.</summary>
    private sealed class StoppedBeforeSendException : Exception
    {
        public StoppedBeforeSendException() : base("the Worker is stopping") { }
    }

    /// <summary>A claimed message with the text it will carry, already committed.</summary>
    private sealed record Draft(
        Guid MessageId, long AppointmentId, Guid ClaimToken, string Channel, string Body, long TenantId, string Kind, string? Traceparent);

    /// <summary>
    /// Counts the calls claimed and waiting for their turn at the account's call rate
    /// (<c>Twilio__MaxCallsPerSecond</c>, 1 a second by default), in all Workers: claimed as calls, their
    /// start not recorded yet. Counted once a claim and kept for its transaction in <c>rappel.calls_waiting</c>,
    /// which the claim's statement reads.
    /// </summary>
    private const string CountCallsWaitingSql =
        """
        select set_config('rappel.calls_waiting', (
            select count(*) from messages w
            where w.status = 'sending' and w.channel = 'voice'
              and not exists (select 1 from message_sends s where s.message_id = w.id and s.claim_token = w.claim_token))::text, true)::bigint
        """;

    /// <summary>A pending message that will go as a call: planned as one, or an SMS to a number that cannot take one (<see cref="Compose"/>).</summary>
    private const string GoesAsCallSql =
        """
        (p.channel = 'voice' or exists (
            select 1 from appointments a
            where a.id = p.appointment_id
              and (not a.phone_is_mobile or exists (select 1 from phone_flags f where f.phone = a.phone and f.sms_unusable))))
        """;

    /// <summary>
    /// How far ahead calls are claimed: what the account's call rate starts in this time may wait for
    /// it, in all Workers (<see cref="CallRoom"/>).
    /// </summary>
    internal static readonly TimeSpan CallHorizon = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many calls may wait for the call rate at once, in all Workers: what the rate starts within
    /// <see cref="CallHorizon"/> (5 calls at the default of one a second). A claimed call holds its send
    /// slot, and its group's row locks, until its turn; claimed by the loop's free slots like an SMS (up
    /// to 128), calls waited minutes at one a second, past their lease, and held back the SMS of their
    /// group and the agendas' changes to their appointments.
    /// </summary>
    private int CallRoom => (int)Math.Max(1, twilio.Value.MaxCallsPerSecond * CallHorizon.TotalSeconds);

    /// <summary>
    /// Claims a batch, with the text of each message committed in the same transaction: if we crash
    /// after Twilio accepted a message, recovery finds it at Twilio by number and text. The rows are
    /// locked (SKIP LOCKED: two Workers never claim the same), read with what the texts need, then
    /// updated once, all in three round trips for the batch. Calls are claimed only while fewer than
    /// <see cref="CallRoom"/> wait for the call rate; beyond it the claim passes over them, so the SMS due
    /// after a backlog of calls still go.
    /// </summary>
    private async Task<List<Draft>> ClaimAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var callRoom = CallRoom;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var read = await connection.QueryMultipleAsync(
            new CommandDefinition(
                $"""
                {CountCallsWaitingSql};
                {MessageSnapshots.Columns}
                where m.id in (
                    select p.id from messages p
                    where p.status = 'pending' and p.due_at <= @now
                      and (current_setting('rappel.calls_waiting')::bigint < @callRoom or not {GoesAsCallSql})
                    order by p.due_at
                    limit @batchSize
                    for update skip locked)
                order by m.due_at
                """,
                new { now, batchSize, callRoom },
                transaction,
                cancellationToken: cancellationToken));
        var callsLeft = callRoom - await read.ReadSingleAsync<long>();
        var due = await read.ReadAsync<MessageSnapshot>();
        var drafts = new List<Draft>();
        if (parsedSettings.Count > MaxParsedSettings)
        {
            parsedSettings.Clear();
        }

        foreach (var m in due)
        {
            // A batch is mostly one tenant's 9:00: its settings are parsed once, not once per message.
            var (channel, body) = Compose(m.ShareSettings(parsedSettings));
            if (channel == Channels.Voice && callsLeft-- <= 0)
            {
                // No room for another call: it stays pending, unlocked at the commit, for a later claim.
                continue;
            }

            drafts.Add(new Draft(m.Id, m.AppointmentId, Guid.NewGuid(), channel, body, m.TenantId, m.Kind, m.Traceparent));
        }

        if (drafts.Count > 0)
        {
            await MessageStates.ClaimAsync(connection, transaction,
                [.. drafts.Select(d => d.MessageId)], [.. drafts.Select(d => d.ClaimToken)], [.. drafts.Select(d => d.Body)],
                [.. drafts.Select(d => d.Channel)], presence.Number, now);
        }

        // Not cancelled from here: a claim committed without our knowing would wait for the lease.
        await transaction.CommitAsync(CancellationToken.None);
        return drafts;
    }

    /// <summary>The channel and text of a message; for a call, the text it will speak, kept to show what was heard.</summary>
    private static (string Channel, string Body) Compose(MessageSnapshot m)
    {
        var context = m.Context();
        var channel = m.Channel == Channels.Sms && (m.SmsUnusable || !m.PhoneIsMobile) ? Channels.Voice : m.Channel;
        return (channel, channel == Channels.Sms ? SmsTexts.For(m.Kind, context) : VoiceTexts.Announcement(m.Kind, context));
    }

    /// <summary>What a send Twilio did not accept leaves behind (an accepted one is written with its round: <see cref="WriteAcceptedAsync"/>).</summary>
    private async Task RecordResultAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MessageSnapshot m, Guid claimToken, string channel,
        ProviderResult result, TenantSettings settings, DateTimeOffset now)
    {
        switch (result.Outcome)
        {
            case ProviderOutcome.NotSent:
                var retryAt = now + (result.ErrorCode == TwilioProvider.BrokenCircuit ? options.RetryAfterBrokenCircuit : options.RetryAfterNotSent);
                await SettleAsync(connection, transaction, m, claimToken,
                    retryAt < m.StartsAt
                        ? new SendDecision(Verdict.Defer, result.Error, retryAt)
                        : new SendDecision(Verdict.Skip, "too_late: Twilio could not be reached in time"), now);
                break;

            case ProviderOutcome.Unknown:
                // Left 'sending' on purpose: RecoverAsync reconciles it with Twilio after the lease.
                await MessageStates.MarkUnknownAsync(connection, transaction, m.Id, claimToken, $"outcome unknown: {result.Error}", now);
                logger.LogWarning("Outcome of message {MessageId} unknown ({Reason}); it will be reconciled", m.Id, result.Error);
                break;

            case ProviderOutcome.Rejected:
                await DeliveryFailures.HandleAsync(connection, transaction,
                    new FailedMessage(m.Id, m.TenantId, m.AppointmentId, m.ExternalId, m.AppointmentStatus, m.Phone, m.Kind, channel,
                        m.OnlyIfUnconfirmed, m.Attempts + 1, m.StartsAt, m.CurrentPlanVersion, claimToken),
                    result.ErrorCode, $"{result.ErrorCode}: {result.Error}", settings, now, logger);
                break;
        }
    }

    private static Task SettleAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MessageSnapshot m, Guid claimToken, SendDecision decision, DateTimeOffset now) =>
        decision.Verdict switch
        {
            Verdict.Defer => MessageStates.DeferAsync(connection, transaction, m.Id, claimToken, decision.DeferTo, decision.Reason, now),
            _ => MessageStates.CloseAsync(connection, transaction, m.Id, claimToken,
                decision.Verdict == Verdict.Cancel ? MessageStatus.Cancelled : MessageStatus.Skipped, decision.Reason, now),
        };

    /// <summary>
    /// How long a started send that Twilio does not list may still be held by Twilio. An SMS: until its
    /// validity period has passed (Twilio may hold it queued, unlisted). A call: Twilio lists a call
    /// as soon as it creates it, so one not listed at two looks a lease apart was never placed.
    /// </summary>
    private TimeSpan UnlistedGrace(string channel) =>
        channel == Channels.Sms ? twilio.Value.ValidityPeriod + options.ClaimLease : 2 * options.ClaimLease;

    /// <summary>
    /// Claims left <c>sending</c> past the lease by a crash or a lost answer, and those of a Worker that is
    /// gone at once (<see cref="MessageStates.FindStuckAsync"/>), each locked (SKIP LOCKED: one being sent
    /// is skipped) and settled alone, in its own transaction:
    /// <list type="bullet">
    /// <item>never started: back to <c>pending</c>, at once (a call never placed is placed later);</item>
    /// <item>started, and Twilio lists exactly one match that no message holds (SMS: to the number, created
    /// while this send could have been at Twilio, with its committed text or, bodies redacted, an empty one;
    /// call: to the number, in the same window): <c>sent</c> with that SID;</item>
    /// <item>several such matches: ambiguous, not yet known, looked at again one lease later (a status
    /// callback naming the message, or another row taking one of them, settles it);</item>
    /// <item>started, nothing of its own listed (no match, or only SIDs other messages hold): Twilio may
    /// still hold it, so it stays <c>sending</c> until it surely does not (<see cref="UnlistedGrace"/>), and
    /// only then goes back to <c>pending</c>; looked at again one lease on, or at the grace's end if that
    /// comes first;</item>
    /// <item>the look-up failed, or the row failed in any way: that row is left for the next round
    /// (logged); the others go on.</item>
    /// </list>
    /// Returns how many were settled.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var stuck = await MessageStates.FindStuckAsync(connection, now - options.ClaimLease, limit: 200);
        var settled = 0;
        var lookUpsFailed = 0;
        foreach (var (id, claimToken) in stuck)
        {
            if (cancellationToken.IsCancellationRequested || connection.State != System.Data.ConnectionState.Open)
            {
                break;
            }

            try
            {
                var outcome = await RecoverOneAsync(connection, id, claimToken, lookUpsFailed >= 3);
                settled += outcome == Recovery.Settled ? 1 : 0;
                lookUpsFailed += outcome == Recovery.LookUpFailed ? 1 : 0;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One row's failure (a constraint, a bad row) never ends the round: it is looked at again next round.
                logger.LogWarning(e, "Reconciliation of message {MessageId} failed; it is looked at again next round", id);
            }
        }

        if (settled > 0)
        {
            logger.LogWarning("Reconciled {Count} messages left sending by a crash or an unknown answer", settled);
        }

        return settled;
    }

    private enum Recovery
    {
        Settled,
        Later,
        LookUpFailed,
    }

    private async Task<Recovery> RecoverOneAsync(NpgsqlConnection connection, Guid id, Guid claimToken, bool lookUpsFailing)
    {
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        var m = await MessageStates.LockStuckAsync(connection, transaction, id, claimToken, clock.GetUtcNow() - options.ClaimLease);
        if (m is null)
        {
            return Recovery.Later;
        }

        var now = clock.GetUtcNow();
        Recovery outcome;
        if (m.StartedAt is null)
        {
            await MessageStates.ReconcileNeverSentAsync(connection, transaction, m, "reconciled: claimed but never sent", now);
            outcome = Recovery.Settled;
        }
        else if (lookUpsFailing)
        {
            // Twilio's list is failing: the rest waits for the next round rather than for more timeouts.
            return Recovery.Later;
        }
        else
        {
            var startedAt = new DateTimeOffset(m.StartedAt.Value, TimeSpan.Zero);
            var lookup = m.Phone is null ? new Lookup(LookupOutcome.NotFound)
                : m.Channel == Channels.Sms ? await provider.FindSmsAsync(m.Phone, m.Body ?? "", startedAt, CancellationToken.None)
                : await provider.FindCallAsync(m.Phone, startedAt, CancellationToken.None);
            now = clock.GetUtcNow();
            var ours = lookup.Outcome == LookupOutcome.Found
                ? await MessageStates.UnheldAsync(connection, transaction, lookup.Candidates ?? [lookup.Sid!])
                : [];
            var unlisted = lookup.Outcome == LookupOutcome.NotFound || (lookup.Outcome == LookupOutcome.Found && ours.Count == 0);
            var conflict = lookup.Outcome == LookupOutcome.Found && ours.Count == 0 ? " (what it lists is held by other messages)" : "";
            outcome = Recovery.Later;
            if (ours.Count == 1 && await MessageStates.ReconcileSentAsync(connection, transaction, m, ours[0], now))
            {
                outcome = Recovery.Settled;
            }
            else if (ours.Count > 1)
            {
                await MessageStates.ReconcileLaterAsync(connection, transaction, m, $"ambiguous: Twilio lists {ours.Count} matches no message holds; looked at again later", now);
            }
            else if (unlisted && startedAt + UnlistedGrace(m.Channel) < now)
            {
                await MessageStates.ReconcileNeverSentAsync(connection, transaction, m, "reconciled: Twilio never had it" + conflict, now);
                outcome = Recovery.Settled;
            }
            else if (unlisted || ours.Count == 1)
            {
                // ours.Count == 1 here: another message took that SID between our check and our update.
                // Unlisted, it is looked at again one lease on, or as soon as Twilio surely dropped it, whichever
                // comes first: the lease runs from the claim, the grace from the send, which a call's turn at the
                // call rate can put seconds later, and a look just before the grace's end would otherwise cost a
                // whole lease more (bench/faults.sh refused-calls: 6 min instead of 4).
                var graceLeaseFrom = startedAt + UnlistedGrace(m.Channel) - options.ClaimLease;
                await MessageStates.ReconcileLaterAsync(connection, transaction, m, "not listed by Twilio yet: it may still hold it" + conflict, now,
                    unlisted && graceLeaseFrom < now ? graceLeaseFrom : now);
            }
            else
            {
                await MessageStates.ReconcileLaterAsync(connection, transaction, m, $"look-up failed ({lookup.Error}): tried again later", now);
                outcome = Recovery.LookUpFailed;
            }
        }

        await transaction.CommitAsync(CancellationToken.None);
        return outcome;
    }
}
