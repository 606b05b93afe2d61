using Dapper;
using Npgsql;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Telemetry;

namespace RappelRdv.Reminders.RdvSolidarites;

/// <summary>
/// The outbox of write-backs to RDV-Solidarités (table <c>rdvs_writebacks</c>, CONTRACT §10): the
/// one module that writes it. A citizen's cancellation or request to reschedule an appointment that
/// came from RDV-Solidarités is enqueued in the transaction of the status change; the Worker's loop
/// (src/Worker/RdvSolidarites/) claims it, PATCHes the participation to <c>excused</c> and records here
/// what came of it. One row per appointment: RDV-Solidarités hears <c>excused</c> once.
/// </summary>
public static class WriteBacks
{
    public const string Pending = "pending";
    public const string Done = "done";
    public const string Failed = "failed";

    /// <summary>The participation status written: the only one a citizen's answer maps to.</summary>
    public const string Excused = "excused";

    /// <summary>Retried for at least the contract's 24 hours; then failed.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromDays(3);

    private const string NoParticipationId =
        "the participation id is not known yet: the RDV has had no webhook since RappelRdv began keeping it; the next one sends it";

    /// <summary>
    /// Enqueues <c>excused</c> for this appointment, in the caller's transaction. Does nothing for an
    /// appointment not from RDV-Solidarités, for a tenant without <c>rdvSolidarites.api</c>, or when one
    /// is already enqueued. Without the participation's id yet, the row is written failed with the reason
    /// (and the webhook that brings the id makes it pending again).
    /// </summary>
    public static Task EnqueueAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            insert into rdvs_writebacks (appointment_id, tenant_id, participation_id, status, reason, created_at, updated_at, next_attempt_at,
                traceparent)
            select a.id, a.tenant_id, a.rdvs_participation_id,
                   case when a.rdvs_participation_id is null then 'failed' else 'pending' end,
                   case when a.rdvs_participation_id is null then @noId end,
                   @now, @now, @now, @traceparent
            from appointments a join tenants t on t.id = a.tenant_id
            where a.id = @appointmentId and a.source = @source and jsonb_typeof(t.settings -> 'rdvSolidaritesApi') = 'object'
            on conflict (appointment_id) do nothing
            """,
            new { appointmentId, now, source = AppointmentStore.RdvSolidaritesSource, noId = NoParticipationId, traceparent = RappelTelemetry.CurrentTraceparent() },
            transaction);

    /// <summary>
    /// The participation's id became known (kept with its appointment by the Appointments module, in
    /// <paramref name="transaction"/>): a write-back that waited for it becomes pending again.
    /// </summary>
    public static Task ReleaseWaitingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, long participationId, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update rdvs_writebacks set participation_id = @participationId, status = 'pending', reason = null,
                   attempts = 0, updated_at = @now, next_attempt_at = @now, created_at = @now
            where appointment_id = @appointmentId and participation_id is null and status = 'failed'
            """,
            new { appointmentId, participationId, now },
            transaction);

    /// <summary>Whether RappelRdv wrote this appointment back: the next <c>excused</c> webhook is its echo.</summary>
    public static Task<bool> ExistsAsync(NpgsqlConnection connection, long appointmentId) =>
        connection.ExecuteScalarAsync<bool>("select exists (select 1 from rdvs_writebacks where appointment_id = @appointmentId)", new { appointmentId });

    /// <summary>A due write-back, claimed with what delivering it needs (the tenant's settings as they are now) and the span that enqueued it.</summary>
    public sealed record Due(long AppointmentId, long TenantId, long ParticipationId, int Attempts, DateTime CreatedAt, string Settings, string? Traceparent = null);

    /// <summary>
    /// Takes at most <paramref name="count"/> due write-backs, at most <paramref name="perTenant"/> of a
    /// tenant, the first of each tenant before the second of any, and leases them for
    /// <paramref name="lease"/> (longer than any attempt: no two Workers write one at once, and a
    /// crashed Worker's come back), stamped with the claiming Worker's number (<paramref name="claimedBy"/>:
    /// if that Worker dies, <see cref="GiveBackGoneAsync"/> brings them back before the lease ends).
    /// </summary>
    public static async Task<IReadOnlyList<Due>> ClaimAsync(
        NpgsqlConnection connection, int count, int perTenant, TimeSpan lease, int? claimedBy, DateTimeOffset now, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<Due>(new CommandDefinition(
            """
            with fair as (
                select appointment_id from (
                    select appointment_id, next_attempt_at,
                           row_number() over (partition by tenant_id order by next_attempt_at) as rank
                    from rdvs_writebacks
                    where status = 'pending' and next_attempt_at <= @now
                ) ranked
                where rank <= @perTenant
                order by rank, next_attempt_at
                limit @count
            ),
            claimed as (
                select w.appointment_id from rdvs_writebacks w join fair using (appointment_id)
                where w.status = 'pending' and w.next_attempt_at <= @now
                for update of w skip locked
            )
            update rdvs_writebacks w set next_attempt_at = @leaseUntil, attempts = w.attempts + 1, claimed_by = @claimedBy
            from claimed, tenants t
            where w.appointment_id = claimed.appointment_id and t.id = w.tenant_id
            returning w.appointment_id, w.tenant_id, w.participation_id, w.attempts, w.created_at, t.settings::text as settings, w.traceparent
            """,
            new { now, leaseUntil = now + lease, perTenant, count, claimedBy },
            cancellationToken: cancellationToken))).AsList();

    /// <summary>RDV-Solidarités took it.</summary>
    public static Task DoneAsync(NpgsqlConnection connection, long appointmentId, DateTimeOffset now) =>
        connection.ExecuteAsync(
            "update rdvs_writebacks set status = 'done', reason = null, claimed_by = null, updated_at = @now where appointment_id = @appointmentId and status = 'pending'",
            new { appointmentId, now });

    /// <summary>Final: nothing more is tried.</summary>
    public static Task FailAsync(NpgsqlConnection connection, long appointmentId, string reason, DateTimeOffset now) =>
        connection.ExecuteAsync(
            "update rdvs_writebacks set status = 'failed', reason = @reason, claimed_by = null, updated_at = @now where appointment_id = @appointmentId and status = 'pending'",
            new { appointmentId, reason, now });

    /// <summary>Tried again at <paramref name="next"/>; the reason shows meanwhile.</summary>
    public static Task RetryAsync(NpgsqlConnection connection, long appointmentId, string reason, DateTimeOffset next, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update rdvs_writebacks set reason = @reason, updated_at = @now, next_attempt_at = @next, claimed_by = null
            where appointment_id = @appointmentId and status = 'pending'
            """,
            new { appointmentId, reason, next, now });

    /// <summary>A stopping Worker gives its claim back at once, the attempt not counted.</summary>
    public static Task GiveBackAsync(NpgsqlConnection connection, long appointmentId, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            update rdvs_writebacks set next_attempt_at = @now, attempts = greatest(attempts - 1, 0), claimed_by = null
            where appointment_id = @appointmentId and status = 'pending'
            """,
            new { appointmentId, now });

    /// <summary>
    /// The claims of a Worker that is gone (killed, its node lost: its number's lock is held by nobody)
    /// are due again at once, the attempt not counted, as a stopping Worker's are; RDV-Solidarités may
    /// then get <c>excused</c> twice, which changes nothing there. Returns how many.
    /// </summary>
    public static Task<int> GiveBackGoneAsync(NpgsqlConnection connection, DateTimeOffset now, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(
            $"""
            update rdvs_writebacks w set next_attempt_at = @now, attempts = greatest(w.attempts - 1, 0), claimed_by = null
            where w.claimed_by is not null and w.status = 'pending' and {Claimers.Gone("w.claimed_by")}
            """,
            new { now },
            cancellationToken: cancellationToken));
}
