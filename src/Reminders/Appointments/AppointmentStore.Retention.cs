using Dapper;
using Npgsql;

namespace RappelRdv.Reminders.Appointments;

/// <summary>The nightly erasure of personal data after a tenant's retention delay: the appointments' part.</summary>
public sealed partial class AppointmentStore
{
    /// <summary>An appointment whose personal data the retention erases in this batch.</summary>
    public sealed record Expired(long Id, string ExternalId);

    /// <summary>
    /// Locks, inside the caller's transaction, up to <paramref name="batchSize"/> appointments of the tenant
    /// that started before <paramref name="before"/> and still hold personal data, oldest first. Rows another
    /// transaction holds (a send, a PUT) are skipped and taken at the next run.
    /// </summary>
    public static async Task<List<Expired>> LockExpiredAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, DateTimeOffset before, int batchSize) =>
        // 'erased_at is null' alone would miss an appointment the agenda wrote again after its
        // erasure (a PUT of an old appointment brings the phone back): any personal column counts.
        (await connection.QueryAsync<Expired>(
            """
            select a.id, a.external_id from appointments a
            where a.tenant_id = @tenantId and a.starts_at < @before
              and (a.erased_at is null or a.phone is not null or a.first_name is not null or a.last_name is not null)
            order by a.starts_at
            limit @batchSize
            for update of a skip locked
            """,
            new { tenantId, before, batchSize }, transaction)).AsList();

    /// <summary>
    /// Erases the phone and the names of these appointments (locked by <see cref="LockExpiredAsync"/>), in the
    /// caller's transaction; returns how many. The no-show history kept in place of the phone stays: the
    /// tenant's riskReminders rule still needs it (NoShowHistory). Erasing again changes nothing but the data.
    /// </summary>
    public static Task<int> EraseExpiredAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyCollection<long> ids, DateTimeOffset now) =>
        // content_hash goes too: a SHA-256 over all fields gives the phone back to whoever
        // hashes every French mobile number with the fields that remain.
        connection.ExecuteAsync(
            """
            update appointments a set phone = null, first_name = null, last_name = null, content_hash = '\x'::bytea,
                                      erased_at = coalesce(a.erased_at, @now)
            where a.id = any(@ids)
            """,
            new { ids = ids.ToArray(), now }, transaction);
}
