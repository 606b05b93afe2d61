using Dapper;
using Npgsql;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Appointments;

/// <summary>
/// The tenant's <c>riskReminders</c> rule at creation (CONTRACT §11): a citizen with at least
/// <c>minNoShows</c> no-shows among the appointments of the tenant that started in the last
/// <c>lookbackDays</c> is at risk; the new appointment is drawn <c>held_out</c> or <c>targeted</c>,
/// and a targeted one's plan gains the rule's extra reminders.
/// <para>
/// A past no-show counts while the tenant still knows whose it was: by the phone while its
/// appointment keeps it, then by the citizen's key (an HMAC of the number under the tenant's secret,
/// <see cref="TenantSecrets.CitizenKey"/>) that the Worker's retention leaves in place of the phone
/// for as long as the rule looks back that far (<see cref="NoShowHistory"/>, docs/PRIVACY.md).
/// </para>
/// </summary>
public sealed partial class AppointmentStore
{
    /// <summary>
    /// Draws the batch's at-risk appointments, with one look-up for the whole batch (no query per
    /// appointment), on the writer's connection before the batch's statement. Creations of tenants
    /// without a rule, or without a phone, stay <c>none</c> and cost nothing here.
    /// </summary>
    private static void DrawRisks(NpgsqlConnection connection, List<NewAppointment> batch)
    {
        var candidates = new List<NewAppointment>();
        foreach (var creation in batch)
        {
            // Set again on every attempt: a batch that failed is written again one creation at a time.
            creation.Risk = Risks.None;
            creation.Plan = creation.BasePlan;
            if (creation.Settings.RiskReminders is not null && creation.Data.Phone is not null)
            {
                candidates.Add(creation);
            }
        }

        if (candidates.Count == 0)
        {
            return;
        }

        var keys = HistoryKeys(connection, candidates);
        var noShows = connection.Query<(int Index, int NoShows)>(
            """
            select n.i,
                   (select count(*) from appointments a
                    where a.tenant_id = n.tenant_id and a.outcome = 'no_show' and a.phone = n.phone
                      and a.starts_at > n.since and a.starts_at <= n.until)::int
                 + (select count(*) from appointments a
                    where a.tenant_id = n.tenant_id and a.citizen_key = decode(n.citizen_key, 'hex') and a.outcome = 'no_show'
                      and a.phone is distinct from n.phone and a.starts_at > n.since and a.starts_at <= n.until)::int
            from unnest(@Indexes, @TenantIds, @Phones, @CitizenKeys, @Sinces, @Untils) as n(i, tenant_id, phone, citizen_key, since, until)
            """,
            new
            {
                Indexes = Enumerable.Range(0, candidates.Count).ToArray(),
                TenantIds = candidates.Select(c => c.TenantId).ToArray(),
                Phones = candidates.Select(c => c.Data.Phone).ToArray(),
                CitizenKeys = candidates.Select(c => Convert.ToHexStringLower(TenantSecrets.CitizenKey(keys[c.TenantId], c.Data.Phone!))).ToArray(),
                Sinces = candidates.Select(c => (c.Now - TimeSpan.FromDays(c.Settings.RiskReminders!.LookbackDays)).UtcDateTime).ToArray(),
                Untils = candidates.Select(c => c.Now.UtcDateTime).ToArray(),
            }).ToDictionary(r => r.Index, r => r.NoShows);

        for (var i = 0; i < candidates.Count; i++)
        {
            var creation = candidates[i];
            var rule = creation.Settings.RiskReminders!;
            if (noShows[i] < rule.MinNoShows)
            {
                continue;
            }

            creation.Risk = creation.RiskRoll < rule.HoldoutPercent ? Risks.HeldOut : Risks.Targeted;
            if (creation.Risk == Risks.Targeted)
            {
                var input = ToPlanInput(creation.Data, creation.Holdout, rule.Add);
                creation.Plan = PlanRows.From(ReminderPlanner.Plan(input, creation.Settings, PlanReason.Created, creation.Now), creation.Now);
            }
        }
    }

    /// <summary>The history secrets of the candidates' tenants: from their settings as the tenant was read, else from the database.</summary>
    private static Dictionary<long, byte[]> HistoryKeys(NpgsqlConnection connection, List<NewAppointment> candidates)
    {
        var keys = new Dictionary<long, byte[]>();
        foreach (var creation in candidates)
        {
            if (creation.Settings.HistoryKey is { } key)
            {
                keys[creation.TenantId] = key;
            }
        }

        var missing = candidates.Select(c => c.TenantId).Where(id => !keys.ContainsKey(id)).Distinct().ToArray();
        if (missing.Length > 0)
        {
            foreach (var (id, key) in connection.Query<(long, byte[])>(
                "select id, history_key from tenants where id = any(@missing)", new { missing }))
            {
                keys[id] = key;
            }
        }

        return keys;
    }

    /// <summary>The tenant's history secret, read inside the caller's transaction.</summary>
    private static async Task<byte[]> HistoryKeyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId) =>
        (await connection.ExecuteScalarAsync<byte[]>("select history_key from tenants where id = @tenantId", new { tenantId }, transaction))!;
}
