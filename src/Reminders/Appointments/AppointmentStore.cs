using Dapper;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Appointments;

public enum WriteOutcome
{
    Created,
    Updated,
    Unchanged,
    NotFound,
    Conflict,
}

/// <param name="View">The appointment as written, when the write could tell it without reading it back (a creation).</param>
public sealed record WriteResult(WriteOutcome Outcome, long AppointmentId = 0, string? Problem = null, AppointmentView? View = null);

/// <summary>
/// Every change an agenda makes to an appointment, and the messages it plans or stops.
/// Each method is one transaction holding the appointment's row lock, so a change never
/// interleaves with another change or with a send (the dispatcher takes the same lock).
/// </summary>
public sealed partial class AppointmentStore(NpgsqlDataSource db, TimeProvider clock)
{
    // Dapper matches constructors on exact types, and Npgsql reads timestamptz as a UTC DateTime.
    private sealed record Row(
        long Id, DateTime StartsAtUtc, string Status, string? Outcome, byte[] ContentHash, int PlanVersion,
        bool Holdout, DateTime? SourceUpdatedAt, string Channel, string? Phone, string Risk)
    {
        public DateTimeOffset StartsAt => StartsAtUtc.AsUtc();
    }

    public async Task<WriteResult> UpsertAsync(
        long tenantId, TenantSettings settings, string externalId, AppointmentData data, CancellationToken cancellationToken,
        string source = "api", DateTimeOffset? sourceUpdatedAt = null)
    {
        var now = clock.GetUtcNow();
        var hash = data.ContentHash();
        // Most PUTs of an agenda's sync create: try that first (AppointmentStore.Creation.cs). When the
        // appointment exists, the path below, under its row lock, decides what changes.
        if (await TryCreateAsync(tenantId, settings, externalId, data, hash, source, sourceUpdatedAt, now, cancellationToken) is { } created)
        {
            return created;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var existing = await LockAsync(connection, tenantId, externalId);
        if (existing is null)
        {
            // Appointments are never deleted: only a creation set aside (the same appointment twice in one
            // batch, the first of which failed) gets here. Start again: it is a creation.
            await transaction.RollbackAsync(cancellationToken);
            return await UpsertAsync(tenantId, settings, externalId, data, cancellationToken, source, sourceUpdatedAt);
        }

        if (AppointmentStatus.IsCancelled(existing.Status) || existing.Outcome is not null)
        {
            return new WriteResult(WriteOutcome.Conflict, existing.Id,
                existing.Outcome is not null
                    ? $"The appointment already has an outcome ({existing.Outcome}); it cannot be changed."
                    : $"The appointment is {existing.Status}; it cannot be changed.");
        }

        if (existing.ContentHash.AsSpan().SequenceEqual(hash))
        {
            return new WriteResult(WriteOutcome.Unchanged, existing.Id);
        }

        var rescheduled = existing.StartsAt != data.StartsAt;
        var replan = rescheduled || existing.Channel != data.Channel || existing.Phone != data.Phone;
        var planVersion = replan ? existing.PlanVersion + 1 : existing.PlanVersion;

        await connection.ExecuteAsync(
            """
            update appointments set starts_at = @StartsAt, duration_minutes = @DurationMinutes, phone = @Phone,
                first_name = @FirstName, last_name = @LastName, phone_is_mobile = @PhoneIsMobile, channel = @Channel,
                service = @Service, location_name = @LocationName, location_address = @LocationAddress,
                location_phone = @LocationPhone, mode = @Mode, content_hash = @hash, plan_version = @planVersion, language = @language,
                source_updated_at = coalesce(@sourceUpdatedAt, source_updated_at), updated_at = @now,
                status = case when @rescheduled then 'scheduled' else status end,
                confirmed_at = case when @rescheduled then null else confirmed_at end,
                status_changed_at = case when @rescheduled then @now else status_changed_at end
            where id = @id
            """,
            new
            {
                id = existing.Id, data.StartsAt, data.DurationMinutes, data.Phone, data.FirstName, data.LastName,
                data.PhoneIsMobile, data.Channel, data.Service, data.LocationName, data.LocationAddress, data.LocationPhone,
                data.Mode, hash, planVersion, sourceUpdatedAt, now, rescheduled, language = LanguageOf(data, settings),
            },
            transaction);

        if (replan)
        {
            await CancelPendingAsync(connection, transaction, existing.Id, "replaced by a new plan", now);
            await InsertPlanAsync(connection, transaction, tenantId, existing.Id, planVersion, settings,
                ToPlanInput(data, existing.Holdout, ExtraReminders(existing.Risk, settings)), rescheduled ? PlanReason.Rescheduled : PlanReason.Created, now,
                notify: rescheduled);
        }

        await transaction.CommitAsync(cancellationToken);
        return new WriteResult(WriteOutcome.Updated, existing.Id);
    }

    /// <summary>Cancelled by the service: nothing pending is sent; the citizen is told when the tenant wants it.</summary>
    public Task<WriteResult> CancelByServiceAsync(long tenantId, TenantSettings settings, string externalId, CancellationToken cancellationToken) =>
        CancelAsync(tenantId, externalId, AppointmentStatus.CancelledByService, settings.NotifyOnCancel ? settings : null, cancellationToken);

    /// <summary>Cancels and stops what is pending; when <paramref name="notify"/> is given, plans the news for the citizen.</summary>
    private async Task<WriteResult> CancelAsync(
        long tenantId, string externalId, string status, TenantSettings? notify, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var existing = await LockAsync(connection, tenantId, externalId);
        if (existing is null)
        {
            return new WriteResult(WriteOutcome.NotFound);
        }

        if (AppointmentStatus.IsCancelled(existing.Status))
        {
            return new WriteResult(WriteOutcome.Unchanged, existing.Id);
        }

        if (existing.Outcome is not null)
        {
            return new WriteResult(WriteOutcome.Conflict, existing.Id, $"The appointment already has an outcome ({existing.Outcome}).");
        }

        await connection.ExecuteAsync(
            "update appointments set status = @status, status_changed_at = @now, updated_at = @now where id = @id",
            new { id = existing.Id, status, now }, transaction);
        await CancelPendingAsync(connection, transaction, existing.Id, "appointment cancelled", now);

        if (notify is not null && existing.StartsAt > now && existing.Channel != Channels.None)
        {
            var phoneIsMobile = await connection.ExecuteScalarAsync<bool>(
                "select phone_is_mobile from appointments where id = @id", new { id = existing.Id }, transaction);
            var input = new PlanInput(existing.StartsAt, existing.Channel, phoneIsMobile, existing.Holdout, RemindersAllowed: true);
            var message = ReminderPlanner.Schedule(
                PlannedMessage.Notification(MessageKinds.Cancellation, ReminderPlanner.NotificationChannel(input), now),
                existing.StartsAt, notify.Zone, notify.QuietHours, now);
            await InsertMessagesAsync(connection, transaction, tenantId, existing.Id, existing.PlanVersion, [message], now);
        }

        await transaction.CommitAsync(cancellationToken);
        return new WriteResult(WriteOutcome.Updated, existing.Id);
    }

    public async Task<WriteResult> SetOutcomeAsync(long tenantId, string externalId, string outcome, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var existing = await LockAsync(connection, tenantId, externalId);
        if (existing is null)
        {
            return new WriteResult(WriteOutcome.NotFound);
        }

        if (outcome != Outcomes.Excused && existing.StartsAt > now)
        {
            return new WriteResult(WriteOutcome.Conflict, existing.Id,
                $"'{outcome}' can only be recorded once the appointment has started ({existing.StartsAt:O}); 'excused' can be recorded at any time.");
        }

        if (existing.Outcome == outcome)
        {
            return new WriteResult(WriteOutcome.Unchanged, existing.Id);
        }

        await connection.ExecuteAsync(
            "update appointments set outcome = @outcome, outcome_at = @now, updated_at = @now where id = @id",
            new { id = existing.Id, outcome, now }, transaction);
        // An excused citizen will not come: reminding them would be noise.
        await CancelPendingAsync(connection, transaction, existing.Id, $"outcome {outcome} recorded", now);
        await transaction.CommitAsync(cancellationToken);
        return new WriteResult(WriteOutcome.Updated, existing.Id);
    }

    public async Task<AppointmentView?> GetAsync(long tenantId, string externalId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // One round trip: the appointment and its messages as two result sets of one batch.
        await using var results = await connection.QueryMultipleAsync(
            """
            select a.id, a.external_id, a.starts_at, a.duration_minutes, a.status, a.outcome, a.phone, a.channel,
                   a.service, a.location_name, a.location_address, a.location_phone, a.mode,
                   exists (select 1 from opt_outs o where o.tenant_id = a.tenant_id and o.phone = a.phone) as opted_out,
                   a.language, a.variant, a.risk,
                   w.status as write_back_status, w.reason as write_back_reason, w.updated_at as write_back_updated_at
            from appointments a left join rdvs_writebacks w on w.appointment_id = a.id
            where a.tenant_id = @tenantId and a.external_id = @externalId;

            select m.id, m.kind, m.channel, m.due_at, m.status, m.sent_at, m.provider_id, m.segments, m.error, m.direction
            from messages m join appointments a on a.id = m.appointment_id
            where a.tenant_id = @tenantId and a.external_id = @externalId
            order by m.due_at, m.created_at, m.id;
            """,
            new { tenantId, externalId });
        var row = await results.ReadSingleOrDefaultAsync<ViewRow>();
        if (row is null)
        {
            return null;
        }

        var messages = await results.ReadAsync<MessageRow>();

        return new AppointmentView(
            row.ExternalId, row.StartsAt.AsUtc(), row.DurationMinutes, row.Status, row.Outcome,
            new CitizenView(row.Phone, row.Channel, row.OptedOut, row.Language), row.Service,
            Location(row.LocationName, row.LocationAddress, row.LocationPhone),
            row.Mode,
            [.. messages.Select(m => new MessageView(m.Id, m.Kind, m.Channel, m.DueAt.AsUtc(), m.Status,
                m.SentAt?.AsUtc(), m.ProviderId, m.Segments, m.Error, m.Direction))],
            row.Variant,
            row.Risk,
            row.WriteBackStatus is { } writeBack ? new RdvSolidaritesWriteBackView(writeBack, row.WriteBackReason, row.WriteBackUpdatedAt!.Value.AsUtc()) : null);
    }

    private sealed record ViewRow(
        long Id, string ExternalId, DateTime StartsAt, int DurationMinutes, string Status, string? Outcome, string? Phone,
        string Channel, string? Service, string? LocationName, string? LocationAddress, string? LocationPhone, string Mode, bool OptedOut,
        string Language, string? Variant, string Risk, string? WriteBackStatus, string? WriteBackReason, DateTime? WriteBackUpdatedAt);

    private sealed record MessageRow(
        Guid Id, string Kind, string Channel, DateTime DueAt, string Status, DateTime? SentAt, string? ProviderId,
        int? Segments, string? Error, string Direction);

    private static LocationView? Location(string? name, string? address, string? phone) =>
        name is null && address is null && phone is null ? null : new LocationView(name, address, phone);

    /// <summary>The citizen's language: the agenda's, else the tenant's default, else French.</summary>
    private static string LanguageOf(AppointmentData data, TenantSettings settings) =>
        data.Language ?? settings.Texts?.DefaultLanguage ?? Texts.Languages.French;

    private static PlanInput ToPlanInput(AppointmentData data, bool holdout, IReadOnlyList<ReminderStep>? extraReminders = null) =>
        new(data.StartsAt, data.Channel, data.PhoneIsMobile, holdout, data.RemindersAllowed, data.NotificationsAllowed, extraReminders);

    /// <summary>
    /// A targeted appointment's reminders on top of the tenant's: the rule's <c>add</c> as it is now (a
    /// reschedule plans them again; a rule removed since adds nothing).
    /// </summary>
    private static IReadOnlyList<ReminderStep>? ExtraReminders(string risk, TenantSettings settings) =>
        risk == Risks.Targeted ? settings.RiskReminders?.Add : null;

    private static Task<Row?> LockAsync(NpgsqlConnection connection, long tenantId, string externalId) =>
        connection.QuerySingleOrDefaultAsync<Row>(
            """
            select id, starts_at as starts_at_utc, status, outcome, content_hash, plan_version, holdout, source_updated_at, channel, phone, risk
            from appointments where tenant_id = @tenantId and external_id = @externalId
            for update
            """,
            new { tenantId, externalId });

    internal static Task<int> CancelPendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, string reason, DateTimeOffset now) =>
        Messages.MessageStates.CancelPendingAsync(connection, transaction, appointmentId, reason, now);

    private static Task InsertPlanAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, long appointmentId, int planVersion,
        TenantSettings settings, PlanInput input, PlanReason reason, DateTimeOffset now, bool notify = true)
    {
        var effectiveSettings = notify ? settings : settings with { NotifyOnCreate = false, NotifyOnChange = false };
        var plan = ReminderPlanner.Plan(input, effectiveSettings, reason, now);
        return InsertMessagesAsync(connection, transaction, tenantId, appointmentId, planVersion, plan, now);
    }

    internal static Task InsertMessagesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, long appointmentId, int planVersion,
        IReadOnlyList<PlannedMessage> plan, DateTimeOffset now) =>
        MessagePlans.InsertAsync(connection, transaction, tenantId, appointmentId, planVersion, plan, now);
}
