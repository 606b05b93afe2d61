using Dapper;
using Hangfire;
using Npgsql;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Security;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Worker.Retention;

/// <summary>
/// The daily erasure of personal data, <c>retentionDays</c> (a tenant setting) after each
/// appointment: the citizen's phone and names, the text of every message sent or received about
/// it, the tenant's delivered events, and the per-number flags no appointment needs any more.
/// What the statistics count stays: dates, statuses, outcomes, service, place, channel, holdout,
/// and each message's kind, channel, status, times and segments. See docs/PRIVACY.md.
/// <para>
/// Set-based and in batches: each batch is one short transaction, its writes of appointments and
/// messages made by their modules (AppointmentStore, MessageStates); rows another
/// transaction holds (a send, a PUT) are skipped and taken at the next run. Safe beside dispatch,
/// on any number of Workers, and run twice.
/// </para>
/// <para>
/// Opt-outs keep their number on purpose: a STOP must outlive the appointments it was sent
/// about, or the next appointment would message someone who asked us to stop.
/// </para>
/// <para>
/// Distinct from <c>AppointmentStore.ErasePersonalDataAsync</c> (erasure on a person's request):
/// this is the time-based rule that applies to everybody.
/// </para>
/// </summary>
internal sealed class PersonalDataRetention(NpgsqlDataSource db, TimeProvider clock, ILogger<PersonalDataRetention> logger)
{
    public const string JobId = "erase-expired-personal-data";

    public const int DefaultBatchSize = 500;

    [AutomaticRetry(Attempts = 3)]
    public Task RunAsync(CancellationToken cancellationToken) => EraseExpiredAsync(cancellationToken);

    public async Task<RetentionReport> EraseExpiredAsync(CancellationToken cancellationToken, int batchSize = DefaultBatchSize)
    {
        var now = clock.GetUtcNow();
        long appointments = 0, bodies = 0, events = 0;
        List<TenantRetention> tenants;
        await using (var connection = await db.OpenConnectionAsync(cancellationToken))
        {
            tenants = (await connection.QueryAsync<TenantRetention>(
                """
                select id, coalesce((settings->>'retentionDays')::int, 180) as retention_days, settings::text as settings, history_key
                from tenants order by id
                """)).AsList();
        }

        foreach (var tenant in tenants)
        {
            // The tenant's own delay: each tenant (département) is its own controller and sets it.
            var before = now - TimeSpan.FromDays(tenant.RetentionDays);
            // The no-shows its riskReminders rule still looks back to keep a key in place of the phone (docs/PRIVACY.md).
            // Its settings parsed once, for both ends of that history.
            var rule = TenantSettings.FromJson(tenant.Settings).RiskReminders;
            await NoShowHistory.KeepAsync(db, tenant.Id, rule, tenant.HistoryKey, before, now, cancellationToken);
            while (!cancellationToken.IsCancellationRequested)
            {
                var batch = await EraseAppointmentsAsync(tenant.Id, before, now, batchSize, cancellationToken);
                appointments += batch.Appointments;
                bodies += batch.Bodies;
                if (batch.Appointments < batchSize)
                {
                    break;
                }
            }

            await NoShowHistory.ForgetAsync(db, tenant.Id, rule, now, cancellationToken);
            events += await DeleteInBatchesAsync(
                """
                delete from events where id in (
                    select id from events
                    where tenant_id = @tenantId and status <> 'pending' and created_at < @before
                    limit @batchSize
                    for update skip locked)
                """,
                new { tenantId = tenant.Id, before, batchSize }, batchSize, cancellationToken);
        }

        // A number's flags (landline, help text sent) serve only to message it about an appointment.
        var phoneFlags = await DeleteInBatchesAsync(
            """
            delete from phone_flags where phone in (
                select f.phone from phone_flags f
                where not exists (select 1 from appointments a where a.phone = f.phone)
                limit @batchSize
                for update skip locked)
            """,
            new { batchSize }, batchSize, cancellationToken);

        // The audit trail (sign-ins, views, exports) is kept a year, whatever the tenants' own delays.
        await new RappelRdv.Reminders.Audit.AuditTrail(db, clock).PurgeAsync(cancellationToken);

        var report = new RetentionReport(appointments, bodies, events, phoneFlags);
        logger.LogInformation(
            "Retention: erased {Appointments} appointments and {MessageBodies} message texts; deleted {Events} events and {PhoneFlags} phone flags",
            report.Appointments, report.MessageBodies, report.Events, report.PhoneFlags);
        return report;
    }

    /// <summary>
    /// One batch, one short transaction: the appointments' module locks and erases them, the messages'
    /// module erases their texts; here only what no module owns yet (Twilio deletions, events).
    /// </summary>
    private async Task<BatchResult> EraseAppointmentsAsync(long tenantId, DateTimeOffset before, DateTimeOffset now, int batchSize, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = await AppointmentStore.LockExpiredAsync(connection, transaction, tenantId, before, batchSize);
        if (due.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return new BatchResult(0, 0);
        }

        var ids = due.Select(a => a.Id).ToArray();
        // Twilio keeps each message and call too: TwilioErasure deletes them there. With them, what
        // twilio_sids recorded for these appointments (earlier tries of a call, replies by TwiML).
        await connection.ExecuteAsync(
            """
            insert into twilio_deletions (sid, created_at, next_attempt_at)
            select m.provider_id, @now, @now from messages m where m.appointment_id = any(@ids) and m.provider_id is not null
            union all
            select s.sid, @now, @now from twilio_sids s where s.appointment_id = any(@ids)
            on conflict (sid) do nothing
            """,
            new { ids, now }, transaction);
        var bodies = await MessageStates.EraseExpiredTextsAsync(connection, transaction, ids);
        // Events still kept about these appointments: Twilio's error texts quote the number.
        await connection.ExecuteAsync(
            """
            update events e set payload = regexp_replace(e.payload::text, @numbers, @erased, 'g')::jsonb
            where e.tenant_id = @tenantId and e.payload->'data'->>'externalId' = any(@externalIds) and e.payload::text ~ @numbers
            """,
            new { tenantId, externalIds = due.Select(a => a.ExternalId).ToArray(), numbers = ErasedText.PhoneNumbersPattern, erased = ErasedText.Replacement },
            transaction);
        var appointments = await AppointmentStore.EraseExpiredAsync(connection, transaction, ids, now);
        await transaction.CommitAsync(cancellationToken);
        return new BatchResult(appointments, bodies);
    }

    private async Task<long> DeleteInBatchesAsync(string sql, object parameters, int batchSize, CancellationToken cancellationToken)
    {
        long total = 0;
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        while (!cancellationToken.IsCancellationRequested)
        {
            var deleted = await connection.ExecuteAsync(sql, parameters);
            total += deleted;
            if (deleted < batchSize)
            {
                break;
            }
        }

        return total;
    }

    private sealed record TenantRetention(long Id, int RetentionDays, string Settings, byte[] HistoryKey);

    private sealed record BatchResult(long Appointments, long Bodies);
}

internal sealed record RetentionReport(long Appointments, long MessageBodies, long Events, long PhoneFlags);
