using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Demo;

/// <summary>
/// <c>POST /v1/admin/tenants/{slug}/demo-history</c> (operator): about three months of made-up
/// past appointments, with outcomes, reminders, replies and a few delivery failures, and a riskReminders
/// rule's draws (its extra calls, its held-out group; the rule itself is set when the tenant has none), so that a
/// demonstration tenant's dashboard shows a real picture from the first start. <c>./run.sh</c>
/// calls it when it creates the <c>demo</c> tenant (<c>DEMO_HISTORY=0</c> skips it).
/// Mapped only in Development or with <c>Demo__HistoryEndpoint=true</c> (which <c>./run.sh</c> sets):
/// a production Api has no way to write made-up appointments.
/// </summary>
/// <remarks>
/// One set-based statement, deterministic (each draw is a hash of the appointment's id), and
/// idempotent: a tenant that already has demo appointments gets nothing more. All appointments
/// are in the past, so the Worker never sends anything for them; the phones are in the range
/// ARCEP keeps for fiction (06 39 98 xx xx) and there are no names.
/// </remarks>
internal static class DemoHistoryEndpoints
{
    public const int Weeks = 13;

    public const int AppointmentsPerWeekday = 45;

    public static void MapDemoHistory(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment() && !app.Configuration.GetValue<bool>("Demo:HistoryEndpoint"))
        {
            return;
        }

        app.MapPost("/v1/admin/tenants/{slug}/demo-history", Create)
            .WithTags("Tenants (operator)")
            .RequireAuthorization(Policies.Admin)
            .WithName("CreateDemoHistory")
            .WithSummary("Fill a demonstration tenant with three months of made-up history")
            .WithDescription("Past appointments only (nothing is ever sent for them), with outcomes, reminders and replies, so that a "
                + "demonstration dashboard shows a real picture. Idempotent: a tenant that already has demo appointments gets nothing more.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<DemoHistoryCreated>, ProblemHttpResult>> Create(
        string slug, TenantDirectory tenants, NpgsqlDataSource db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = await tenants.FindAsync(slug, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound($"No tenant '{slug}'.");
        }

        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, tenant.Settings.Zone).DateTime);
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var created = await connection.QuerySingleAsync<Created>(new CommandDefinition(
            Sql,
            new
            {
                tenantId = tenant.Id,
                zone = tenant.Settings.TimeZone,
                today = today.ToDateTime(TimeOnly.MinValue),
                first = today.AddDays(-7 * Weeks).ToDateTime(TimeOnly.MinValue),
                now,
                perDay = AppointmentsPerWeekday,
            },
            cancellationToken: cancellationToken));
        if (created.Appointments > 0 && tenant.Settings.RiskReminders is null)
        {
            // The history has appointments drawn by a rule: the tenant gets the rule, unless it has one of its own.
            await connection.ExecuteAsync(new CommandDefinition(
                "update tenants set settings = jsonb_set(settings, '{riskReminders}', @rule::jsonb) where id = @tenantId",
                new { tenantId = tenant.Id, rule = JsonSerializer.Serialize(DemoRule, JsonSerializerOptions.Web) },
                cancellationToken: cancellationToken));
        }

        return TypedResults.Ok(new DemoHistoryCreated(created.Appointments, created.Messages));
    }

    /// <summary>The demo's riskReminders rule: a call the day before for whoever missed once in a year, 30 % held out.</summary>
    internal static readonly RiskReminders DemoRule = new(1, 365, [new ReminderStep("voice", "P1D", false)], 30);

    /// <summary>What a demo history added: appointments and messages (reminders and replies).</summary>
    internal sealed record DemoHistoryCreated(long Appointments, long Messages);

    private sealed class Created
    {
        public long Appointments { get; set; }

        public long Messages { get; set; }
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
        ),
        reminders as (
            insert into messages (id, appointment_id, tenant_id, kind, channel, step, plan_version, due_at, status, attempts,
                sent_at, delivered_at, provider_id, segments, error, direction, created_at, updated_at)
            select gen_random_uuid(), i.id, @tenantId, 'reminder', i.channel, 0, 1, i.starts_at - interval '2 days',
                   case when f.r < 0.03 then 'failed' when f.r < 0.07 then 'sent' else 'delivered' end, 1,
                   i.starts_at - interval '2 days' + interval '4 seconds',
                   case when f.r >= 0.07 then i.starts_at - interval '2 days' + interval '9 seconds' end,
                   'demo-' || i.external_id, case when i.channel = 'sms' then 2 end,
                   case when f.r < 0.015 then '30003: Unreachable destination handset'
                        when f.r < 0.025 then '30005: Unknown destination handset'
                        when f.r < 0.03 then '30006: Landline or unreachable carrier' end,
                   'out', i.starts_at - interval '12 days', i.starts_at - interval '2 days' + interval '12 seconds'
            from inserted i,
                 lateral (select ('x' || substr(md5(i.external_id || ':m'), 1, 8))::bit(32)::bigint / 4294967296.0 as r) f
            where not i.holdout and i.channel <> 'none'
            returning 1
        ),
        extra_calls as (
            -- the rule's extra reminder of the targeted: a call the day before
            insert into messages (id, appointment_id, tenant_id, kind, channel, step, plan_version, due_at, status, attempts,
                sent_at, provider_id, direction, created_at, updated_at)
            select gen_random_uuid(), i.id, @tenantId, 'reminder', 'voice', 1, 1, i.starts_at - interval '1 day', 'sent', 1,
                   i.starts_at - interval '1 day' + interval '4 seconds', 'demo-call-' || i.external_id,
                   'out', i.starts_at - interval '12 days', i.starts_at - interval '1 day' + interval '70 seconds'
            from inserted i
            where i.risk = 'targeted' and not i.holdout and i.channel <> 'none'
            returning 1
        ),
        replies as (
            insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, sent_at, provider_id,
                body, direction, created_at, updated_at)
            select gen_random_uuid(), i.id, @tenantId, 'reply', i.channel, 1, i.starts_at - interval '47 hours', 'delivered',
                   i.starts_at - interval '47 hours', 'demo-reply-' || i.external_id,
                   case when i.channel = 'voice' then case when i.status = 'confirmed' then 'touche 1' else 'touche 2' end
                        when i.status = 'confirmed' then (array['OUI', 'Oui merci', 'ok', 'oui'])[1 + ('x' || substr(md5(i.external_id || ':b'), 1, 8))::bit(32)::bigint % 4]
                        else 'NON' end,
                   'in', i.starts_at - interval '47 hours', i.starts_at - interval '47 hours'
            from inserted i
            where i.status in ('confirmed', 'cancelled_by_citizen')
            returning 1
        )
        select (select count(*) from inserted) as appointments,
               (select count(*) from reminders) + (select count(*) from extra_calls) + (select count(*) from replies) as messages
        """;
}
