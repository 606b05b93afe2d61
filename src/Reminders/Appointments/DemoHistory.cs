using Dapper;
using Npgsql;
using RappelRdv.Reminders.Messages;

namespace RappelRdv.Reminders.Appointments;

/// <summary>
/// Made-up past appointments for a demonstration tenant (<c>POST /v1/admin/tenants/{slug}/demo-history</c>):
/// about three months of them, with outcomes, and their reminders and replies (<see cref="MessagePlans.InsertDemoHistoryAsync"/>),
/// written in one transaction. Deterministic (each draw is a hash of the appointment's id) and
/// idempotent: a tenant that already has demo appointments gets nothing more. All appointments
/// are in the past, so the Worker never sends anything for them; the phones are in the range
/// ARCEP keeps for fiction (06 39 98 xx xx) and there are no names.
/// </summary>
public static class DemoHistory
{
    /// <summary>Writes the history of <paramref name="weeks"/> weeks before <paramref name="today"/> (the tenant's date).</summary>
    public static async Task<(long Appointments, long Messages)> WriteAsync(
        NpgsqlDataSource db, long tenantId, string zone, DateOnly today, int weeks, int perDay, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<DemoAppointment>(new CommandDefinition(
            Sql,
            new
            {
                tenantId,
                zone,
                today = today.ToDateTime(TimeOnly.MinValue),
                first = today.AddDays(-7 * weeks).ToDateTime(TimeOnly.MinValue),
                now,
                perDay,
            },
            transaction,
            cancellationToken: cancellationToken))).AsList();
        var messages = rows.Count == 0 ? 0 : await MessagePlans.InsertDemoHistoryAsync(connection, transaction, tenantId, rows, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (rows.Count, messages);
    }

    // r1…r8: independent draws in [0, 1) from the hash of the external id.
    private const string Sql = """
        with drawn as (
            select d::date as day, n,
                   'demo-' || to_char(d, 'YYYYMMDD') || '-' || lpad(n::text, 2, '0') as external_id,
                   ((d::date + time '08:30' + ((n - 1) % 17) * interval '30 minutes') at time zone @zone) as starts_at
            from generate_series(@first::date, @today::date - 1, interval '1 day') d,
                 generate_series(1, @perDay) n
            where extract(isodow from d) < 6
              and not exists (select 1 from appointments where tenant_id = @tenantId and source = 'demo')
        ),
        draws as (
            select *,
                   ('x' || substr(md5(external_id || ':1'), 1, 8))::bit(32)::bigint / 4294967296.0 as r1,
                   ('x' || substr(md5(external_id || ':2'), 1, 8))::bit(32)::bigint / 4294967296.0 as r2,
                   ('x' || substr(md5(external_id || ':3'), 1, 8))::bit(32)::bigint / 4294967296.0 as r3,
                   ('x' || substr(md5(external_id || ':4'), 1, 8))::bit(32)::bigint / 4294967296.0 as r4,
                   ('x' || substr(md5(external_id || ':5'), 1, 8))::bit(32)::bigint / 4294967296.0 as r5,
                   ('x' || substr(md5(external_id || ':6'), 1, 8))::bit(32)::bigint / 4294967296.0 as r6,
                   ('x' || substr(md5(external_id || ':7'), 1, 8))::bit(32)::bigint / 4294967296.0 as r7,
                   ('x' || substr(md5(external_id || ':8'), 1, 8))::bit(32)::bigint / 4294967296.0 as r8,
                   ('x' || substr(md5(external_id || ':9'), 1, 8))::bit(32)::bigint / 4294967296.0 as r9,
                   ('x' || substr(md5(external_id || ':10'), 1, 8))::bit(32)::bigint / 4294967296.0 as r10
            from drawn
        ),
        shaped as (
            select *,
                   r1 < 0.10 as holdout,
                   -- the riskReminders rule: 15 % of citizens missed before, 30 % of those held out
                   case when r9 >= 0.15 then 'none' when r10 < 0.30 then 'held_out' else 'targeted' end as risk,
                   case when r2 < 0.80 then 'sms' when r2 < 0.95 then 'voice' else 'none' end as channel,
                   case when r3 < 0.35 then 'RSA' when r3 < 0.55 then 'Insertion professionnelle' when r3 < 0.70 then 'PMI'
                        when r3 < 0.85 then 'APA' when r3 < 0.95 then 'Aide sociale à l''enfance' else 'Logement' end as service,
                   case when r4 < 0.40 then 'Maison des solidarités Centre' when r4 < 0.70 then 'Maison des solidarités Nord'
                        when r4 < 0.90 then 'Maison des solidarités Sud' else 'Antenne du littoral' end as location_name
            from draws
        ),
        decided as (
            select *,
                   not holdout and channel <> 'none' as reminded,
                   not holdout and channel <> 'none' and r5 < 0.55 as confirmed,
                   case when not holdout and channel <> 'none' and r5 >= 0.55 and r6 < 0.07 then 'cancelled_by_citizen'
                        when r6 >= 0.97 then 'cancelled_by_service' end as cancelled
            from shaped
        ),
        outcomes as (
            select *,
                   case
                       when cancelled is not null then null
                       -- the last days: agents have not recorded every outcome yet
                       when day >= @today::date - 6 and r8 < 0.35 then null
                       when r7 < 0.03 then 'excused'
                       when r7 < 0.03 + case when holdout or channel = 'none' then 0.19 when confirmed then 0.035 else 0.11 end
                                      + case service when 'RSA' then 0.03 when 'PMI' then -0.015 else 0 end
                                      -- who missed before misses more; the extra call takes back part of it
                                      + case risk when 'held_out' then 0.16 when 'targeted' then 0.07 else 0 end then 'no_show'
                       else 'honoured'
                   end as outcome
            from decided
        ),
        inserted as (
            insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, outcome, phone, phone_is_mobile,
                channel, service, location_name, location_address, mode, holdout, risk, content_hash, source, confirmed_at,
                status_changed_at, outcome_at, created_at, updated_at)
            select @tenantId, external_id, starts_at, 30,
                   coalesce(cancelled, case when confirmed then 'confirmed' else 'scheduled' end),
                   outcome,
                   '+3363998' || lpad((n * 211 + extract(doy from day)::int * 7)::text, 4, '0'), true,
                   channel, service, location_name, null, 'in_person', holdout, risk,
                   sha256(convert_to(external_id, 'UTF8')), 'demo',
                   case when confirmed then starts_at - interval '47 hours' end,
                   case when confirmed or cancelled is not null then starts_at - interval '47 hours' end,
                   case when outcome is not null then starts_at + interval '3 hours' end,
                   starts_at - interval '12 days', @now
            from outcomes
            on conflict (tenant_id, external_id) do nothing
            returning id, external_id, starts_at, status, channel, holdout, risk
        )
        select id, external_id, starts_at, status, channel, holdout, risk from inserted
        """;
}

/// <summary>A demo appointment as written: what its messages are drawn from.</summary>
internal sealed record DemoAppointment(long Id, string ExternalId, DateTime StartsAt, string Status, string Channel, bool Holdout, string? Risk);
