using Dapper;
using Npgsql;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Appointments;

/// <summary>
/// The no-show history that outlives the phone, for the tenant's <c>riskReminders</c> rule (CONTRACT
/// §11, docs/PRIVACY.md). A no-show counts by its phone while its appointment keeps it; when the
/// nightly retention is about to erase the phone of a no-show that the rule still looks back to,
/// <see cref="KeepAsync"/> leaves the citizen's key in its place (<c>appointments.citizen_key</c>: an
/// HMAC-SHA256 of the number under the tenant's secret); <see cref="ForgetAsync"/> erases each key
/// once the rule no longer looks back that far, or at once when the tenant has no rule. An erasure on
/// the citizen's request erases the keys too (<see cref="AppointmentStore.ErasePersonalDataOfPhoneAsync"/>).
/// Called by the Worker's retention job, for one tenant at a time; safe to run twice.
/// </summary>
public static class NoShowHistory
{
    /// <summary>
    /// Keys the no-shows whose phone is erased before <paramref name="erasedBefore"/> and that the tenant's
    /// <paramref name="rule"/> (its settings, as the caller read them) still counts, under its
    /// <paramref name="historyKey"/>; returns how many.
    /// </summary>
    public static async Task<int> KeepAsync(
        NpgsqlDataSource db, long tenantId, RiskReminders? rule, byte[] historyKey, DateTimeOffset erasedBefore, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        if (rule is null)
        {
            return 0;
        }

        var since = now - TimeSpan.FromDays(rule.LookbackDays);
        if (since >= erasedBefore)
        {
            return 0;
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var due = (await connection.QueryAsync<(long Id, string Phone)>(new CommandDefinition(
            """
            select id, phone from appointments
            where tenant_id = @tenantId and erased_at is null and starts_at < @erasedBefore and starts_at > @since
              and outcome = 'no_show' and phone is not null and citizen_key is null
            """,
            new { tenantId, erasedBefore, since }, cancellationToken: cancellationToken))).AsList();
        if (due.Count == 0)
        {
            return 0;
        }

        // The phone is checked again: one changed meanwhile (a PUT) is keyed at the next run, under its new number.
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            update appointments a set citizen_key = decode(k.citizen_key, 'hex')
            from unnest(@Ids, @Phones, @CitizenKeys) as k(id, phone, citizen_key)
            where a.id = k.id and a.phone = k.phone
            """,
            new
            {
                Ids = due.Select(d => d.Id).ToArray(),
                Phones = due.Select(d => d.Phone).ToArray(),
                CitizenKeys = due.Select(d => Convert.ToHexStringLower(TenantSecrets.CitizenKey(historyKey, d.Phone))).ToArray(),
            },
            cancellationToken: cancellationToken));
    }

    /// <summary>Erases the keys the tenant's <paramref name="rule"/> no longer counts (all of them without a rule); returns how many.</summary>
    public static async Task<int> ForgetAsync(NpgsqlDataSource db, long tenantId, RiskReminders? rule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // Without a rule nothing is counted: every key goes.
        var since = now - TimeSpan.FromDays(rule?.LookbackDays ?? 0);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            update appointments set citizen_key = null
            where tenant_id = @tenantId and citizen_key is not null and (@noRule or starts_at <= @since)
            """,
            new { tenantId, since, noRule = rule is null }, cancellationToken: cancellationToken));
    }
}
