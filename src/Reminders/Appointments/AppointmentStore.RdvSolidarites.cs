using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Reminders.Appointments;

/// <summary>An appointment that RDV-Solidarités created, as the connector needs to see it.</summary>
public sealed record SourcedAppointment(
    long Id, string ExternalId, string Status, string? Outcome, DateTimeOffset? SourceUpdatedAt, bool Erased);

/// <summary>What the RDV-Solidarités connector needs beyond what the agenda API does.</summary>
public sealed partial class AppointmentStore
{
    public const string RdvSolidaritesSource = "rdv-solidarites";

    /// <summary>
    /// Serialises the webhooks of one RDV, across every Api process: RDV-Solidarités may deliver
    /// two of them at once, and deciding whether one is older than what was applied, then applying
    /// it, must not interleave with the other. Held until disposed (a transaction-level advisory
    /// lock, so a dropped connection releases it too).
    /// </summary>
    public async Task<IAsyncDisposable> LockRdvSolidaritesAsync(long tenantId, long rdvId, CancellationToken cancellationToken)
    {
        var connection = await db.OpenConnectionAsync(cancellationToken);
        try
        {
            var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // Two different RDVs hashing alike only wait for each other: harmless.
            var key = BinaryPrimitives.ReadInt64BigEndian(
                SHA256.HashData(Encoding.UTF8.GetBytes($"{RdvSolidaritesSource}:{tenantId}:{rdvId}")));
            await connection.ExecuteAsync(new CommandDefinition(
                "select pg_advisory_xact_lock(@key)", new { key }, transaction, cancellationToken: cancellationToken));
            return new HeldLock(connection, transaction);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The tenant's appointments for one RDV (<c>rdvs-{rdvId}-*</c>), one per participant it has had.</summary>
    public async Task<IReadOnlyList<SourcedAppointment>> FindRdvSolidaritesAsync(long tenantId, long rdvId, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<SourcedRow>(new CommandDefinition(
            """
            select id, external_id, status, outcome, source_updated_at, erased_at is not null as erased
            from appointments
            where tenant_id = @tenantId and source = @source and external_id like @prefix
            order by id
            """,
            new { tenantId, source = RdvSolidaritesSource, prefix = $"rdvs-{rdvId}-%" },
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => new SourcedAppointment(r.Id, r.ExternalId, r.Status, r.Outcome, r.SourceUpdatedAt?.AsUtc(), r.Erased))];
    }

    /// <summary>
    /// Cancelled by the agenda itself, without telling the citizen (an RDV the citizen excused,
    /// a participant removed, an RDV erased). <see cref="CancelByServiceAsync"/> is the variant that tells.
    /// </summary>
    public Task<WriteResult> CancelSilentlyAsync(long tenantId, string externalId, string status, CancellationToken cancellationToken) =>
        AppointmentStatus.IsCancelled(status)
            ? CancelAsync(tenantId, externalId, status, notify: null, cancellationToken)
            : throw new ArgumentOutOfRangeException(nameof(status), status, "Must be a cancelled status.");

    /// <summary>
    /// Drops the pending messages the citizen no longer accepts. Needed because an update that
    /// neither moves the appointment nor changes the number keeps its plan, and the permissions
    /// are part of the description, not of the row.
    /// </summary>
    public async Task<int> StopDisallowedMessagesAsync(
        long appointmentId, bool remindersAllowed, bool notificationsAllowed, CancellationToken cancellationToken)
    {
        if (remindersAllowed && notificationsAllowed)
        {
            return 0;
        }

        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync("select 1 from appointments where id = @appointmentId for update", new { appointmentId }, transaction);
        var stopped = await Messages.MessageStates.CancelPendingKindsAsync(
            connection, transaction, appointmentId, remindersAllowed, notificationsAllowed, "not allowed by the agenda", now);
        await transaction.CommitAsync(cancellationToken);
        return stopped;
    }

    /// <summary>Records that the source's state as of <paramref name="sourceUpdatedAt"/> has been applied; never goes back.</summary>
    public async Task MarkSourceUpdatedAsync(long appointmentId, DateTimeOffset sourceUpdatedAt, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            update appointments set source_updated_at = @sourceUpdatedAt
            where id = @appointmentId and (source_updated_at is null or source_updated_at < @sourceUpdatedAt)
            """,
            new { appointmentId, sourceUpdatedAt }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Keeps the participation's id (what a write-back PATCHes) with the appointment, from each webhook; when it
    /// changed, a write-back that waited for it becomes pending again (<see cref="RdvSolidarites.WriteBacks"/>), in
    /// the same transaction.
    /// </summary>
    public async Task RecordParticipationAsync(long tenantId, string externalId, long participationId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var changed = await connection.QuerySingleOrDefaultAsync<long?>(
            """
            update appointments set rdvs_participation_id = @participationId
            where tenant_id = @tenantId and external_id = @externalId and source = @source
              and rdvs_participation_id is distinct from @participationId
            returning id
            """,
            new { tenantId, externalId, participationId, source = RdvSolidaritesSource }, transaction);
        if (changed is { } appointmentId)
        {
            await RdvSolidarites.WriteBacks.ParticipationRecordedAsync(connection, transaction, appointmentId, participationId, now);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Whether an <c>excused</c> webhook for this appointment is the echo of the citizen's own answer,
    /// written back by RappelRdv: then it changes nothing (a request to reschedule stays one) and tells nobody.
    /// </summary>
    public async Task<bool> IsWriteBackEchoAsync(SourcedAppointment appointment, CancellationToken cancellationToken)
    {
        if (appointment.Status is not (AppointmentStatus.CancelledByCitizen or AppointmentStatus.RescheduleRequested))
        {
            return false;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await RdvSolidarites.WriteBacks.ExistsAsync(connection, appointment.Id);
    }

    private sealed record SourcedRow(long Id, string ExternalId, string Status, string? Outcome, DateTime? SourceUpdatedAt, bool Erased);

    private sealed class HeldLock(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            // Nothing was written on this connection: ending the transaction only releases the lock.
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
