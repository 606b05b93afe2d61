using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Reminders.Messages;

/// <summary>
/// Every change of a message's status, in one file, so that "never twice, never lost" can be read
/// here rather than in each caller. The life of an outbound message:
/// <code>
/// pending ──claim──▶ sending ──send──▶ sent ──callback──▶ delivered | failed
///    ▲                  │  ├─ defer / release (never reached Twilio) ──▶ pending
///    │                  │  ├─ skip / cancel / fail ──▶ skipped | cancelled | failed
///    └── reconcile ─────┘  └─ reconcile after the lease: Twilio has it ──▶ sent
/// </code>
/// The rules that make it safe:
/// <list type="bullet">
/// <item>Every change after a claim names the claim's <c>claim_token</c>: a Worker whose claim was
/// taken back (recovery, release) changes nothing, whatever it believes.</item>
/// <item>A send holds its message row locked (<c>FOR UPDATE</c>, with the appointment's) from the
/// check of the rules to the commit of Twilio's answer; recovery locks the rows it reconciles with
/// <c>SKIP LOCKED</c>. A message being sent is thus invisible to recovery, and a message being
/// reconciled cannot be sent (the send waits for the lock, then finds its token gone).</item>
/// <item>Just before the request leaves, <see cref="MarkStartedAsync"/> commits a row in
/// <c>message_sends</c> (sends leaving together share one statement and one commit; each waits for
/// it): after a crash, a claim without it never reached Twilio and goes back to pending at once; a
/// claim with it is looked up at Twilio first.</item>
/// <item>Every claim carries its Worker's number (<c>claimed_by</c>), whose lock the Worker holds for its
/// life (<see cref="Claimers"/>): a claim whose Worker is gone (killed, its node lost) is taken back at
/// once, not after the lease, and only under that number's lock, which a start record of the same
/// number also takes: a Worker still alive cannot record a start for a claim taken from it.</item>
/// </list>
/// Callers hold the transaction; these methods only write.
/// </summary>
public static class MessageStates
{
    /// <summary>
    /// Claims a batch the caller has locked (<c>FOR UPDATE SKIP LOCKED</c>): pending → sending, with the text
    /// it will carry and the number of the Worker claiming (<paramref name="claimedBy"/>; null while it holds
    /// none: then only the lease brings the claim back).
    /// </summary>
    public static Task ClaimAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] ids, Guid[] claimTokens, string[] bodies, string[] channels,
        int? claimedBy, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages m set status = 'sending', claim_token = d.claim_token, claimed_at = @now, claimed_by = @claimedBy,
                body = d.body, channel = d.channel, attempts = m.attempts + 1, updated_at = @now
            from unnest(@ids, @claimTokens, @bodies, @channels) as d(id, claim_token, body, channel)
            where m.id = d.id and m.status = 'pending'
            """,
            new { ids, claimTokens, bodies, channels, claimedBy, now },
            transaction);

    /// <summary>
    /// Records, in one statement committed at once on its own connection, that these claims' requests
    /// are about to leave for Twilio (a group of sends leaving together: the Worker's SendStarts). Safe
    /// to repeat (a retry of a refused request keeps its first start). Nothing of the group may leave
    /// before this returns: it is what tells recovery to ask Twilio rather than send again.
    /// <para>
    /// Throws, recording nothing, when a claim of the group is no longer its sender's: recovery took it
    /// from a Worker it believed gone (<see cref="Claimers"/>). The group first takes its claimers' numbers
    /// shared, waiting while recovery holds one of them, then checks each claim token in a statement of its
    /// own, which sees what recovery committed. Both statements are one batch, hence one implicit
    /// transaction (one round trip, as before): the check and the insert happen under the locks.
    /// </para>
    /// </summary>
    public static async Task MarkStartedAsync(NpgsqlDataSource db, Guid[] ids, Guid[] claimTokens, DateTimeOffset[] startedAt)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            $"""
            select {Claimers.ShareForStart("number")} from (
                select distinct m.claimed_by as number
                from messages m join unnest($1::uuid[], $2::uuid[]) as d(id, claim_token) on m.id = d.id and m.claim_token = d.claim_token
                where m.claimed_by is not null
                order by 1) numbers
            """)
        {
            Parameters = { new() { Value = ids }, new() { Value = claimTokens } },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            with started as (select * from unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) as d(message_id, claim_token, started_at)),
            ours as (
                select s.* from started s
                where exists (select 1 from messages m where m.id = s.message_id and m.claim_token = s.claim_token and m.status = 'sending')),
            recorded as (insert into message_sends (message_id, claim_token, started_at) select * from ours on conflict do nothing)
            select (select count(*) from started) - (select count(*) from ours)
            """)
        {
            Parameters = { new() { Value = ids }, new() { Value = claimTokens }, new() { Value = startedAt } },
        });
        await using var reader = await batch.ExecuteReaderAsync(CancellationToken.None);
        while (await reader.ReadAsync(CancellationToken.None))
        {
        }

        await reader.NextResultAsync(CancellationToken.None);
        await reader.ReadAsync(CancellationToken.None);
        var taken = reader.GetInt64(0);
        if (taken > 0)
        {
            throw new ClaimTakenException(taken);
        }
    }

    /// <summary>A start record refused: recovery took claims of the group back (their Worker seemed gone). None of the group may leave.</summary>
    public sealed class ClaimTakenException(long count)
        : InvalidOperationException($"{count} claims of this group were taken back by recovery before their sends left; none of the group leaves");

    /// <summary>
    /// Twilio accepted these messages (a dispatch group's answers): sending → sent, in one statement, so
    /// that their usage is counted by one statement that takes its counter rows in order (migration 0020).
    /// A claim taken back meanwhile changes nothing.
    /// </summary>
    public static Task MarkSentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<SentMessage> sent) =>
        connection.ExecuteAsync(
            """
            with sent as (
                update messages m set status = 'sent', sent_at = d.sent_at, provider_id = d.sid, segments = d.segments,
                    error = null, claim_token = null, updated_at = d.sent_at
                from unnest(@ids, @claimTokens, @sids, @segments, @sentAt) as d(id, claim_token, sid, segments, sent_at)
                where m.id = d.id and m.status = 'sending' and m.claim_token = d.claim_token
                returning m.id)
            delete from message_sends s using sent where s.message_id = sent.id
            """,
            new
            {
                ids = sent.Select(s => s.Id).ToArray(),
                claimTokens = sent.Select(s => s.ClaimToken).ToArray(),
                sids = sent.Select(s => s.Sid).ToArray(),
                segments = sent.Select(s => s.Segments).ToArray(),
                sentAt = sent.Select(s => s.SentAt).ToArray(),
            },
            transaction);

    /// <summary>
    /// Twilio's answer was lost (timeout, 5xx, connection cut): the message stays <c>sending</c>, with
    /// its send recorded as started, and recovery asks Twilio after the lease. Never sent again blindly.
    /// </summary>
    public static Task MarkUnknownAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid claimToken, string error, DateTimeOffset now) =>
        connection.ExecuteAsync(
            "update messages set error = @error, updated_at = @now where id = @id and status = 'sending' and claim_token = @claimToken",
            new { id, claimToken, error, now },
            transaction);

    /// <summary>Not now (quiet hours, the 15-minute gap, Twilio surely did not take it): sending → pending, due later.</summary>
    public static Task DeferAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid claimToken, DateTimeOffset? dueAt, string? reason,
        DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'pending', due_at = coalesce(@dueAt, due_at), claim_token = null, error = @reason, updated_at = @now
            where id = @id and status = 'sending' and claim_token = @claimToken;
            delete from message_sends where message_id = @id;
            """,
            new { id, claimToken, dueAt, reason, now },
            transaction);

    /// <summary>Never (the rules say so): sending → skipped or cancelled.</summary>
    public static Task CloseAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid claimToken, string status, string? reason, DateTimeOffset now)
    {
        if (status is not (Appointments.MessageStatus.Skipped or Appointments.MessageStatus.Cancelled))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "a claim closes as skipped or cancelled");
        }

        return connection.ExecuteAsync(
            """
            update messages set status = @status, claim_token = null, error = @reason, updated_at = @now
            where id = @id and status = 'sending' and claim_token = @claimToken;
            delete from message_sends where message_id = @id;
            """,
            new { id, claimToken, status, reason, now },
            transaction);
    }

    /// <summary>
    /// Gives back a claim whose request never left (a Worker stopping, an error before the send):
    /// sending → pending, due as before, at once rather than after the lease. A claim whose send was
    /// started is left alone, unless the caller knows that no attempt reached Twilio (each was refused
    /// as surely not acted on): only Twilio can say what became of the others.
    /// </summary>
    public static async Task<bool> ReleaseAsync(NpgsqlDataSource db, Guid id, Guid claimToken, bool knownNotSent, DateTimeOffset now)
    {
        await using var connection = await db.OpenConnectionAsync(CancellationToken.None);
        return await connection.ExecuteScalarAsync<int>(
            """
            with released as (
                update messages m set status = 'pending', claim_token = null, claimed_at = null, updated_at = @now,
                    error = 'released: the Worker stopped before sending it'
                where m.id = @id and m.status = 'sending' and m.claim_token = @claimToken
                  and (@knownNotSent or not exists (select 1 from message_sends s where s.message_id = @id and s.claim_token = @claimToken))
                returning m.id),
            forgotten as (delete from message_sends s using released where s.message_id = released.id)
            select count(*) from released
            """,
            new { id, claimToken, knownNotSent, now }) > 0;
    }

    /// <summary>Twilio failed it or refused it: → failed. With a claim token, only while that claim holds.</summary>
    public static Task FailAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid? claimToken, string error, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'failed', error = @error, claim_token = null, updated_at = @now
            where id = @id and (@claimToken::uuid is null or (status = 'sending' and claim_token = @claimToken));
            delete from message_sends where message_id = @id;
            """,
            new { id, claimToken, error, now },
            transaction);

    // ---- The account refused (Budgets/SendingPause.cs) ------------------------------------------------------

    /// <summary>
    /// The account itself was refused: the message waits for the end of the pause (→ pending, due then).
    /// With a claim token, only while that claim holds; without (a status callback), whatever its state.
    /// </summary>
    public static Task WaitForPauseAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid? claimToken, DateTimeOffset until, string reason,
        DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'pending', due_at = @until, claim_token = null, error = @reason, updated_at = @now
            where id = @id and (@claimToken::uuid is null or (status = 'sending' and claim_token = @claimToken))
            """,
            new { id, claimToken, until, reason, now },
            transaction);

    /// <summary>The account itself was refused and the appointment starts before the pause ends: → skipped, same guard.</summary>
    public static Task SkipForPauseAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid? claimToken, string reason, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'skipped', claim_token = null, error = @reason, updated_at = @now
            where id = @id and (@claimToken::uuid is null or (status = 'sending' and claim_token = @claimToken))
            """,
            new { id, claimToken, reason, now },
            transaction);

    /// <summary>The pause ended early (the balance is back): the pending messages it held are due at once.</summary>
    public static Task EndPauseAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string pausedReason, DateTime until, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set due_at = @now, updated_at = @now
            where status = 'pending' and due_at <= @until and error like @pattern
            """,
            new { now, until, pattern = pausedReason.TrimEnd() + "%" }, transaction);

    // ---- Recovery: claims left sending past their lease -------------------------------------------------

    /// <summary>A claim past its lease, locked for reconciliation.</summary>
    public sealed record StuckMessage(Guid Id, Guid ClaimToken, string Channel, string? Body, DateTime ClaimedAt, string? Phone, DateTime? StartedAt);

    /// <summary>
    /// Claims whose lease ended, and claims whose Worker is gone (its number's lock is held by nobody:
    /// <see cref="Claimers.Gone"/>) however young, oldest first: candidates only, each is locked (and
    /// its claimer's absence proved) by <see cref="LockStuckAsync"/>.
    /// </summary>
    public static async Task<List<(Guid Id, Guid ClaimToken)>> FindStuckAsync(NpgsqlConnection connection, DateTimeOffset claimedBefore, int limit) =>
        (await connection.QueryAsync<(Guid, Guid)>(
            $"""
            select id, claim_token from messages
            where status = 'sending' and claim_token is not null and (claimed_at < @claimedBefore or {Claimers.Gone("claimed_by")})
            order by claimed_at
            limit @limit
            """,
            new { claimedBefore, limit })).AsList();

    /// <summary>
    /// Locks one stuck claim, or returns null when a send holds it (it is alive: SKIP LOCKED), the claim
    /// has changed meanwhile, or its lease runs on and its Worker is not surely gone. Before the lease
    /// ends a claim is taken only from a Worker whose number this transaction could take exclusively
    /// (<see cref="Claimers.TryTakeOver"/>): no Worker holds it, no start record of it is being written,
    /// and none can be until the caller's commit.
    /// </summary>
    public static async Task<StuckMessage?> LockStuckAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, Guid claimToken, DateTimeOffset claimedBefore)
    {
        var mayTake = await connection.ExecuteScalarAsync<bool?>(
            $"""
            select case when claimed_at < @claimedBefore then true
                        when claimed_by is null then false
                        else {Claimers.TryTakeOver("claimed_by")} end
            from messages where id = @id and status = 'sending' and claim_token = @claimToken
            """,
            new { id, claimToken, claimedBefore },
            transaction);
        if (mayTake != true)
        {
            return null;
        }

        return await connection.QuerySingleOrDefaultAsync<StuckMessage>(
            """
            select m.id, m.claim_token, m.channel, m.body, m.claimed_at, a.phone, s.started_at
            from messages m
            join appointments a on a.id = m.appointment_id
            left join message_sends s on s.message_id = m.id and s.claim_token = m.claim_token
            where m.id = @id and m.status = 'sending' and m.claim_token = @claimToken
            for update of m skip locked
            """,
            new { id, claimToken },
            transaction);
    }

    /// <summary>
    /// Of the SIDs Twilio listed for a send, those no message holds (this one's earlier attempt
    /// included: a row keeps the SID of a send that failed): only these can be this send's.
    /// </summary>
    public static async Task<List<string>> UnheldAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<string> sids) =>
        (await connection.QueryAsync<string>(
            """
            select sid from unnest(@sids) as c(sid)
            where not exists (select 1 from messages o where o.provider_id = c.sid)
            """,
            new { sids = sids.Distinct().ToArray() },
            transaction)).AsList();

    /// <summary>
    /// Twilio has it: sending → sent, with its SID, as of the claim. False (nothing changed) when
    /// another message took that SID meanwhile: not yet known, looked at again later.
    /// </summary>
    public static async Task<bool> ReconcileSentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StuckMessage m, string sid, DateTimeOffset now) =>
        await connection.ExecuteScalarAsync<int>(
            """
            with settled as (
                update messages set status = 'sent', provider_id = @sid, sent_at = coalesce(@startedAt, claimed_at), error = null,
                    claim_token = null, updated_at = @now
                where id = @Id and status = 'sending' and claim_token = @ClaimToken
                  and not exists (select 1 from messages o where o.provider_id = @sid)
                returning id),
            forgotten as (delete from message_sends s using settled where s.message_id = settled.id)
            select count(*) from settled
            """,
            new { m.Id, m.ClaimToken, sid, startedAt = m.StartedAt, now },
            transaction) > 0;

    /// <summary>Twilio never had it (or it never left): sending → pending, sent by the next claim.</summary>
    public static Task ReconcileNeverSentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, StuckMessage m, string reason, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'pending', claim_token = null, claimed_at = null, error = @reason, updated_at = @now
            where id = @Id and status = 'sending' and claim_token = @ClaimToken;
            delete from message_sends where message_id = @Id;
            """,
            new { m.Id, m.ClaimToken, reason, now },
            transaction);

    /// <summary>
    /// Not known yet (Twilio's look-up failed, or Twilio may still hold it): stays sending, looked at
    /// again one lease later (its lease starts again; how long Twilio may hold it is counted from the
    /// start of its send, not from this), so that waiting messages cost one look-up per lease. Recovery holds
    /// it now, by lease alone: its claimer's number goes, or a claimer gone would bring it back every round.
    /// </summary>
    /// <param name="leaseFrom">
    /// Where its new lease starts: <paramref name="now"/>, or earlier to be looked at again sooner (when
    /// Twilio surely dropped what it did not list, before a whole lease is over).
    /// </param>
    public static Task ReconcileLaterAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, StuckMessage m, string reason, DateTimeOffset now,
        DateTimeOffset? leaseFrom = null) =>
        connection.ExecuteAsync(
            """
            update messages set error = @reason, claimed_at = @leaseFrom, claimed_by = null, updated_at = @now
            where id = @Id and status = 'sending' and claim_token = @ClaimToken
            """,
            new { m.Id, m.ClaimToken, reason, now, leaseFrom = leaseFrom ?? now },
            transaction);

    // ---- Twilio's callbacks (Api) -----------------------------------------------------------------------

    /// <summary>
    /// A status callback that names the message (its id is in the callback URL) with a SID we did not
    /// record: Twilio has it, so a claim whose answer was lost is settled now, without a look-up.
    /// </summary>
    public static async Task<bool> RecordAcceptedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, string sid, DateTimeOffset now) =>
        await connection.ExecuteAsync(
            """
            update messages set status = 'sent', provider_id = @sid, sent_at = coalesce(sent_at, @now), error = null,
                claim_token = null, updated_at = @now
            where id = @id and status = 'sending' and provider_id is null
              and not exists (select 1 from messages o where o.provider_id = @sid);
            delete from message_sends where message_id = @id;
            """,
            new { id, sid, now },
            transaction) > 0;

    /// <summary>The SMS reached the phone, or the call was answered: sent → delivered.</summary>
    public static Task MarkDeliveredAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, DateTimeOffset now, int? callSeconds = null) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'delivered', delivered_at = @now, claim_token = null, updated_at = @now,
                call_seconds = coalesce(@callSeconds, call_seconds)
            where id = @id and status in ('sent', 'sending');
            delete from message_sends where message_id = @id;
            """,
            new { id, now, callSeconds },
            transaction);

    /// <summary>
    /// A call not answered, to be tried again later: → pending, due then, with a new claim to come. The
    /// call that was not answered keeps existing at Twilio: its SID goes to <c>twilio_sids</c> for erasure.
    /// </summary>
    public static Task RetryCallAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid id, DateTimeOffset dueAt, string error, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            insert into twilio_sids (sid, appointment_id, created_at)
            select provider_id, appointment_id, @now from messages where id = @id and status in ('sent', 'sending') and provider_id is not null
            on conflict (sid) do nothing;
            update messages set status = 'pending', due_at = @dueAt, provider_id = null, claim_token = null, error = @error, updated_at = @now
            where id = @id and status in ('sent', 'sending');
            delete from message_sends where message_id = @id;
            """,
            new { id, dueAt, error, now },
            transaction);

    // ---- Replies (citizens) ------------------------------------------------------------------------------

    /// <summary>Whether the inbound SMS of this SID was recorded already (Twilio retries a webhook it got no answer to).</summary>
    public static Task<bool> ReplyRecordedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string messageSid) =>
        connection.ExecuteScalarAsync<bool>(
            "select exists (select 1 from messages where provider_id = @messageSid and direction = 'in')", new { messageSid }, transaction);

    /// <summary>A citizen's reply (an SMS, or a key pressed during a call), kept with the appointment: delivered, inbound.</summary>
    public static Task RecordReplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, long tenantId, int planVersion, string channel,
        string body, string providerId, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, provider_id, body,
                direction, sent_at, created_at, updated_at)
            values (@messageId, @appointmentId, @tenantId, 'reply', @channel, @planVersion, @now, 'delivered', @providerId, @body, 'in', @now, @now, @now)
            on conflict do nothing
            """,
            new { messageId = Guid.CreateVersion7(now), appointmentId, tenantId, channel, planVersion, providerId, body = body.Length <= 1600 ? body : body[..1600], now },
            transaction);

    // ---- Appointments changing (Api) ---------------------------------------------------------------------

    /// <summary>
    /// The appointment was cancelled, moved or changed: its pending messages will never leave. A
    /// message being sent is not pending: its send holds the appointment's lock, which the caller waits for.
    /// </summary>
    public static Task<int> CancelPendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, string reason, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'cancelled', error = @reason, updated_at = @now
            where appointment_id = @appointmentId and status = 'pending'
            """,
            new { appointmentId, reason, now },
            transaction);

    /// <summary>The citizen's data erased: the texts of the appointment's messages go, and the numbers Twilio's error texts quote.</summary>
    public static Task EraseTextsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId) =>
        connection.ExecuteAsync(
            """
            update messages set body = null, error = regexp_replace(error, @numbers, @erased, 'g')
            where appointment_id = @appointmentId and (body is not null or error ~ @numbers)
            """,
            new { appointmentId, numbers = Security.ErasedText.PhoneNumbersPattern, erased = Security.ErasedText.Replacement }, transaction);

    /// <summary>
    /// The nightly retention's part of <see cref="EraseTextsAsync"/>, for a batch of appointments the caller's
    /// transaction holds: returns how many messages had a text to erase.
    /// </summary>
    public static Task<long> EraseExpiredTextsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<long> appointmentIds) =>
        connection.QuerySingleAsync<long>(
            """
            with bodies as (
                -- 'old' is the row as it was: how many texts were there to erase.
                update messages m set body = null, error = regexp_replace(m.error, @numbers, @erased, 'g')
                from messages old
                where m.appointment_id = any(@appointmentIds) and old.id = m.id and (m.body is not null or m.error ~ @numbers)
                returning old.body is not null as had_body
            )
            select count(*) from bodies where had_body
            """,
            new { appointmentIds = appointmentIds.ToArray(), numbers = Security.ErasedText.PhoneNumbersPattern, erased = Security.ErasedText.Replacement },
            transaction);

    /// <summary>The agenda no longer allows reminders, or notifications: those pending are cancelled.</summary>
    public static Task<int> CancelPendingKindsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, bool remindersAllowed, bool notificationsAllowed,
        string reason, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update messages set status = 'cancelled', error = @reason, updated_at = @now
            where appointment_id = @appointmentId and status = 'pending'
              and ((not @remindersAllowed and kind = 'reminder')
                or (not @notificationsAllowed and kind in ('confirmation', 'change', 'cancellation')))
            """,
            new { appointmentId, remindersAllowed, notificationsAllowed, reason, now },
            transaction);
}

/// <summary>One message Twilio accepted, as a dispatch group writes it (<see cref="MessageStates.MarkSentAsync"/>).</summary>
public sealed record SentMessage(Guid Id, Guid ClaimToken, string Sid, int? Segments, DateTimeOffset SentAt);
