using System.Runtime.CompilerServices;
using Dapper;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Delivery;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;
using RappelRdv.Reminders.Twilio;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// Claims due messages and sends them, exactly once in the eyes of the citizen:
/// <list type="number">
/// <item>a claim moves a batch from <c>pending</c> to <c>sending</c> with <c>FOR UPDATE SKIP LOCKED</c>,
/// so two Workers never hold the same message;</item>
/// <item>before sending, the message and its appointment are read again and every rule is
/// checked (<see cref="SendRules"/>);</item>
/// <item>the send itself holds the appointment's row lock, so a PUT, a DELETE or another send
/// of the same appointment waits for it and never races it; the result is written in the same
/// transaction;</item>
/// <item>a crash between Twilio's answer and the commit leaves the message <c>sending</c>:
/// <see cref="RecoverAsync"/> asks Twilio whether it has it before sending again.</item>
/// </list>
/// </summary>
internal sealed class Dispatcher(
    NpgsqlDataSource db, IMessageProvider provider, CallbackUrls urls, TimeProvider clock, ILogger<Dispatcher> logger,
    DispatchOptions options)
{

    /// <summary>Claims and sends what is due, batch after batch, until nothing is due. Returns how many were claimed.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken, int maxBatches = int.MaxValue)
    {
        var total = 0;

        // The next batch is claimed as soon as the last message of this one starts, not when all of it is
        // sent: a slow answer from Twilio holds one slot, not the whole slice.
        async IAsyncEnumerable<Draft> Claimed([EnumeratorCancellation] CancellationToken token)
        {
            for (var batch = 0; batch < maxBatches; batch++)
            {
                var drafts = await ClaimAsync(options.BatchSize, token);
                if (drafts.Count == 0)
                {
                    yield break;
                }

                total += drafts.Count;
                foreach (var draft in drafts)
                {
                    yield return draft;
                }
            }
        }

        await Parallel.ForEachAsync(
            Claimed(cancellationToken),
            new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken },
            async (draft, token) =>
            {
                try
                {
                    await ProcessAsync(draft, token);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The claim stays: recovery picks the message up after the lease.
                    logger.LogError(e, "Dispatch of message {MessageId} failed", draft.MessageId);
                }
            });
        return total;
    }

    /// <summary>A claimed message with the text it will carry, already committed.</summary>
    private sealed record Draft(Guid MessageId, long AppointmentId, Guid ClaimToken, string Channel, string Body);

    /// <summary>
    /// Claims a batch, with the text of each message committed in the same transaction: if we crash
    /// after Twilio accepted a message, recovery finds it at Twilio by number and text. The rows are
    /// locked (SKIP LOCKED: two Workers never claim the same), read with what the texts need, then
    /// updated once, all in three round trips for the batch.
    /// </summary>
    private async Task<List<Draft>> ClaimAsync(int batchSize, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = await connection.QueryAsync<MessageSnapshot>(
            $"""
            {SnapshotColumns}
            from messages m
            {SnapshotJoins}
            where m.id in (
                select id from messages
                where status = 'pending' and due_at <= @now
                order by due_at
                limit @batchSize
                for update skip locked)
            order by m.due_at
            """,
            new { now, batchSize },
            transaction);
        // A batch is mostly one tenant's: its settings are parsed once.
        var settings = new Dictionary<string, TenantSettings>(StringComparer.Ordinal);
        var drafts = new List<Draft>();
        foreach (var m in due)
        {
            if (!settings.TryGetValue(m.Settings, out var parsed))
            {
                settings[m.Settings] = parsed = TenantSettings.FromJson(m.Settings);
            }

            var (channel, body) = Compose(m, parsed);
            drafts.Add(new Draft(m.Id, m.AppointmentId, Guid.NewGuid(), channel, body));
        }

        if (drafts.Count > 0)
        {
            await connection.ExecuteAsync(
                """
                update messages m set status = 'sending', claim_token = d.claim_token, claimed_at = @now, body = d.body,
                    channel = d.channel, attempts = m.attempts + 1, updated_at = @now
                from unnest(@ids, @claimTokens, @bodies, @channels) as d(id, claim_token, body, channel)
                where m.id = d.id
                """,
                new
                {
                    ids = drafts.Select(d => d.MessageId).ToArray(),
                    claimTokens = drafts.Select(d => d.ClaimToken).ToArray(),
                    bodies = drafts.Select(d => d.Body).ToArray(),
                    channels = drafts.Select(d => d.Channel).ToArray(),
                    now,
                },
                transaction);
        }

        await transaction.CommitAsync(cancellationToken);
        return drafts;
    }

    private async Task ProcessAsync(Draft draft, CancellationToken cancellationToken)
    {
        var (claimToken, channel, body) = (draft.ClaimToken, draft.Channel, draft.Body);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);

        // The appointment's row lock makes a concurrent PUT, DELETE, reply or other send of the same
        // appointment wait until this send is settled. The snapshot is read again by the second
        // statement of the same round trip, after the lock is granted: a new statement, it sees
        // whatever committed meanwhile.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        MessageSnapshot? m;
        await using (var reads = await connection.QueryMultipleAsync(
            $"""
            select 1 from appointments where id = @appointmentId for update;
            {SnapshotColumns}
            from messages m
            {SnapshotJoins}
            where m.id = @messageId;
            """,
            new { appointmentId = draft.AppointmentId, messageId = draft.MessageId },
            transaction))
        {
            await reads.ReadAsync<int>();
            m = await reads.ReadSingleOrDefaultAsync<MessageSnapshot>();
        }

        if (m is null || m.Status != MessageStatus.Sending || m.ClaimToken != claimToken)
        {
            return;
        }

        var now = clock.GetUtcNow();
        var settings = TenantSettings.FromJson(m.Settings);
        var decision = SendRules.Decide(m, settings, now);
        if (decision.Verdict == Verdict.Send && Compose(m, settings) != (channel, body))
        {
            // The appointment changed between the claim and the lock: start again with the new text.
            decision = new SendDecision(Verdict.Defer, "changed while being prepared", now);
        }

        if (decision.Verdict != Verdict.Send)
        {
            await SettleAsync(connection, transaction, m, decision, now);
            await transaction.CommitAsync(cancellationToken);
            return;
        }

        var result = channel == Channels.Sms
            ? await provider.SendSmsAsync(m.Phone!, body, cancellationToken)
            : await provider.StartCallAsync(m.Phone!, urls.VoiceScript(m.Id), urls.VoiceStatus(m.Id), cancellationToken);
        await RecordResultAsync(connection, transaction, m, channel, body, result, settings, clock.GetUtcNow());
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The channel and text of a message; for a call, the text it will speak, kept to show what was heard.</summary>
    private static (string Channel, string Body) Compose(MessageSnapshot m, TenantSettings settings)
    {
        var context = new MessageContext(m.Service, m.StartsAt, settings.Zone, m.Mode, m.LocationName, m.LocationAddress, m.LocationPhone,
            m.Language, settings.Texts?.TemplatesFor(m.Language, m.Variant));
        var channel = m.Channel == Channels.Sms && (m.SmsUnusable || !m.PhoneIsMobile) ? Channels.Voice : m.Channel;
        return (channel, channel == Channels.Sms ? SmsTexts.For(m.Kind, context) : VoiceTexts.Announcement(m.Kind, context));
    }

    private async Task RecordResultAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MessageSnapshot m, string channel, string? body,
        ProviderResult result, TenantSettings settings, DateTimeOffset now)
    {
        switch (result.Outcome)
        {
            case ProviderOutcome.Accepted:
                await connection.ExecuteAsync(
                    """
                    update messages set status = 'sent', sent_at = @now, provider_id = @sid, segments = @segments,
                        error = null, claim_token = null, updated_at = @now
                    where id = @id
                    """,
                    new { id = m.Id, now, sid = result.Sid, segments = channel == Channels.Sms ? Gsm7.Segments(body!) : (int?)null },
                    transaction);
                logger.LogInformation("Sent {Kind} {MessageId} by {Channel} to {Phone}", m.Kind, m.Id, channel, FrenchPhone.Mask(m.Phone));
                break;

            case ProviderOutcome.NotSent:
                var retryAt = now + (result.ErrorCode == TwilioProvider.BrokenCircuit ? options.RetryAfterBrokenCircuit : options.RetryAfterNotSent);
                await SettleAsync(connection, transaction, m,
                    retryAt < m.StartsAt
                        ? new SendDecision(Verdict.Defer, result.Error, retryAt)
                        : new SendDecision(Verdict.Skip, "too_late: Twilio could not be reached in time"), now);
                break;

            case ProviderOutcome.Unknown:
                // Left 'sending' on purpose: RecoverAsync reconciles it with Twilio after the lease.
                await connection.ExecuteAsync(
                    "update messages set error = @error, updated_at = @now where id = @id",
                    new { id = m.Id, error = $"outcome unknown: {result.Error}", now }, transaction);
                logger.LogWarning("Outcome of message {MessageId} unknown ({Reason}); it will be reconciled", m.Id, result.Error);
                break;

            case ProviderOutcome.Rejected:
                await RecordRejectionAsync(connection, transaction, m, channel, result, settings, now);
                break;
        }
    }

    private Task RecordRejectionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MessageSnapshot m, string channel, ProviderResult result,
        TenantSettings settings, DateTimeOffset now) =>
        DeliveryFailures.HandleAsync(connection, transaction,
            new FailedMessage(m.Id, m.TenantId, m.AppointmentId, m.ExternalId, m.AppointmentStatus, m.Phone, m.Kind, channel,
                m.OnlyIfUnconfirmed, m.Attempts + 1, m.StartsAt, m.CurrentPlanVersion),
            result.ErrorCode, $"{result.ErrorCode}: {result.Error}", settings, now, logger);

    private static Task SettleAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, MessageSnapshot m, SendDecision decision, DateTimeOffset now) =>
        decision.Verdict switch
        {
            Verdict.Defer => connection.ExecuteAsync(
                "update messages set status = 'pending', due_at = @at, claim_token = null, error = @reason, updated_at = @now where id = @id",
                new { id = m.Id, at = decision.DeferTo, reason = decision.Reason, now }, transaction),
            _ => connection.ExecuteAsync(
                "update messages set status = @status, claim_token = null, error = @reason, updated_at = @now where id = @id",
                new
                {
                    id = m.Id,
                    status = decision.Verdict == Verdict.Cancel ? MessageStatus.Cancelled : MessageStatus.Skipped,
                    reason = decision.Reason,
                    now,
                },
                transaction),
        };

    /// <summary>
    /// Messages left <c>sending</c> past the lease by a crash or an unknown answer. An SMS that
    /// Twilio has (same number, same text, since the claim) is marked sent; one it does not have
    /// was never accepted and goes back to <c>pending</c>. A call is never placed twice: its
    /// outcome is unknown, it is marked failed and the agenda is told.
    /// </summary>
    public async Task<int> RecoverAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var stuck = (await connection.QueryAsync<StuckMessage>(
            """
            select m.id, m.channel, m.body, m.claimed_at, a.phone
            from messages m join appointments a on a.id = m.appointment_id
            where m.status = 'sending' and m.claimed_at < @before
            order by m.claimed_at
            limit 200
            """,
            new { before = now - options.ClaimLease })).AsList();

        foreach (var message in stuck)
        {
            string? sid = null;
            if (message.Channel == Channels.Sms && message.Body is not null && message.Phone is not null)
            {
                sid = await provider.FindSentSmsAsync(message.Phone, message.Body, message.ClaimedAt.AddMinutes(-1), cancellationToken);
            }

            var (status, error) = sid is not null ? ("sent", (string?)null)
                : message.Channel == Channels.Voice && message.Body is not null ? ("failed", "outcome unknown after a crash: the call is not placed twice")
                : ("pending", "reconciled: Twilio never had it");
            // The claimed_at condition makes this safe if another Worker reconciles the same row.
            await connection.ExecuteAsync(
                """
                update messages set status = @status, provider_id = coalesce(@sid, provider_id), sent_at = case when @sid is null then sent_at else claimed_at end,
                    error = @error, claim_token = null, updated_at = @now
                where id = @Id and status = 'sending' and claimed_at = @ClaimedAt
                """,
                new { message.Id, message.ClaimedAt, status, sid, error, now });
        }

        if (stuck.Count > 0)
        {
            logger.LogWarning("Reconciled {Count} messages left sending by a crash or an unknown answer", stuck.Count);
        }

        return stuck.Count;
    }

    private sealed record StuckMessage(Guid Id, string Channel, string? Body, DateTime ClaimedAt, string? Phone);

    // What a send depends on (MessageSnapshot), for a message "m": the claim reads it from the rows it
    // just claimed, the send from the table.
    private const string SnapshotColumns =
        """
        select m.id, m.kind, m.channel, m.only_if_unconfirmed, m.plan_version, m.status, m.claim_token, m.attempts,
               a.id as appointment_id, a.tenant_id, a.external_id, a.starts_at as starts_at_utc, a.status as appointment_status,
               a.outcome, a.phone, a.phone_is_mobile, a.channel as citizen_channel, a.service, a.location_name,
               a.location_address, a.location_phone, a.mode, a.plan_version as current_plan_version, t.settings::text as settings,
               exists (select 1 from opt_outs o where o.tenant_id = a.tenant_id and o.phone = a.phone) as opted_out,
               coalesce((select f.sms_unusable from phone_flags f where f.phone = a.phone), false) as sms_unusable,
               (select max(s.sent_at) from messages s
                where s.appointment_id = a.id and s.id <> m.id and s.kind <> 'reply' and s.status in ('sent', 'delivered')) as last_sent_at_utc,
               a.language, a.variant
        """;

    private const string SnapshotJoins =
        """
        join appointments a on a.id = m.appointment_id
        join tenants t on t.id = a.tenant_id
        """;
}

internal sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    public int BatchSize { get; set; } = 64;

    public int Parallelism { get; set; } = 16;

    /// <summary>Dispatch loops started each minute; Hangfire spreads them over the Workers.</summary>
    public int Slices { get; set; } = 4;

    public TimeSpan IdleDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryAfterNotSent { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RetryAfterBrokenCircuit { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a claim may stay <c>sending</c> before it is reconciled with Twilio.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a dispatch loop looks for claims left behind by a crash.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(15);

}
