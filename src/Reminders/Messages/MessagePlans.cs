using Dapper;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Telemetry;

namespace RappelRdv.Reminders.Messages;

/// <summary>A plan as the columns of its <c>messages</c> rows, for one <c>unnest</c>.</summary>
internal sealed record PlanRows(
    Guid[] Ids, string[] Kinds, string[] Channels, int?[] Steps, bool[] OnlyIfUnconfirmed, DateTime[] DueAts,
    string[] Statuses, string?[] Errors)
{
    public static PlanRows From(IReadOnlyList<PlannedMessage> plan, DateTimeOffset now) => new(
        [.. plan.Select(_ => Guid.CreateVersion7(now))],
        [.. plan.Select(m => m.Kind)],
        [.. plan.Select(m => m.Channel)],
        [.. plan.Select(m => m.Step)],
        [.. plan.Select(m => m.OnlyIfUnconfirmed)],
        [.. plan.Select(m => Timestamps.Stored(m.DueAt).UtcDateTime)],
        [.. plan.Select(m => m.SkipReason is null ? MessageStatus.Pending : MessageStatus.Skipped)],
        [.. plan.Select(m => m.SkipReason)]);

    public IEnumerable<MessageView> Views() => Ids.Select((id, i) =>
        new MessageView(id, Kinds[i], Channels[i], DueAts[i].AsUtc(), Statuses[i], null, null, null, Errors[i]));
}

/// <summary>
/// The outbound messages an appointment's plan creates, and those a failure plans again: every
/// <c>insert</c> of a new message, here. Callers hold the transaction and the appointment's lock.
/// Each row keeps the <c>traceparent</c> of the span that planned it (a request, a send), when one is
/// recorded: its send links back to it (<see cref="RappelTelemetry.StartProcessing"/>).
/// </summary>
internal static class MessagePlans
{
    /// <summary>A plan of one appointment, in one statement (the arrays are zipped by unnest).</summary>
    public static Task InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, long appointmentId, int planVersion,
        IReadOnlyList<PlannedMessage> plan, DateTimeOffset now)
    {
        if (plan.Count == 0)
        {
            return Task.CompletedTask;
        }

        var rows = PlanRows.From(plan, now);
        return connection.ExecuteAsync(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, step, only_if_unconfirmed, plan_version,
                due_at, status, error, created_at, updated_at, traceparent)
            select p.id, @appointmentId, @tenantId, p.kind, p.channel, p.step, p.only_if_unconfirmed, @planVersion, p.due_at, p.status, p.error, @now, @now,
                @traceparent
            from unnest(@Ids, @Kinds, @Channels, @Steps, @OnlyIfUnconfirmed, @DueAts, @Statuses, @Errors)
                as p(id, kind, channel, step, only_if_unconfirmed, due_at, status, error)
            """,
            new
            {
                appointmentId, tenantId, planVersion, now, traceparent = RappelTelemetry.CurrentTraceparent(),
                rows.Ids, rows.Kinds, rows.Channels, rows.Steps, rows.OnlyIfUnconfirmed, rows.DueAts, rows.Statuses, rows.Errors,
            },
            transaction);
    }

    /// <summary>
    /// The plans of a batch of creations, as the part of the creation's single statement (a CTE named
    /// <c>plan</c>) that reads the appointments it inserted from the CTE <c>appointment</c>
    /// (<c>id, tenant_id, external_id</c>): one statement, so one transaction, for the whole batch.
    /// <c>@MessageTraceparents</c> are the requests' (taken when each creation was queued: the batch is
    /// written outside any request).
    /// </summary>
    public const string CreationPlansCte =
        """
        plan as (
            insert into messages (id, appointment_id, tenant_id, kind, channel, step, only_if_unconfirmed, plan_version,
                due_at, status, error, created_at, updated_at, traceparent)
            select p.id, a.id, a.tenant_id, p.kind, p.channel, p.step, p.only_if_unconfirmed, 1, p.due_at, p.status, p.error, p.now, p.now,
                p.traceparent
            from appointment a
            join unnest(@MessageTenantIds, @MessageExternalIds, @MessageIds, @Kinds, @MessageChannels, @Steps, @OnlyIfUnconfirmed,
                @DueAts, @Statuses, @Errors, @MessageNows, @MessageTraceparents)
                as p(tenant_id, external_id, id, kind, channel, step, only_if_unconfirmed, due_at, status, error, now, traceparent)
                on p.tenant_id = a.tenant_id and p.external_id = a.external_id)
        """;

    /// <summary>A failed message tried again later (or by call): a new message, the failed one keeping its history.</summary>
    public static Task InsertRetryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long appointmentId, long tenantId, string kind, string channel,
        bool onlyIfUnconfirmed, int planVersion, DateTimeOffset dueAt, int attempts, DateTimeOffset now) =>
        connection.ExecuteAsync(
            """
            insert into messages (id, appointment_id, tenant_id, kind, channel, only_if_unconfirmed, plan_version, due_at, status,
                attempts, created_at, updated_at, traceparent)
            values (@id, @appointmentId, @tenantId, @kind, @channel, @onlyIfUnconfirmed, @planVersion, @dueAt, 'pending', @attempts, @now, @now,
                @traceparent)
            """,
            new
            {
                id = Guid.CreateVersion7(now), appointmentId, tenantId, kind, channel, onlyIfUnconfirmed, planVersion, dueAt, attempts, now,
                traceparent = RappelTelemetry.CurrentTraceparent(),
            },
            transaction);

    /// <summary>The reminders, extra calls and replies of a demo history's appointments (<see cref="DemoHistory"/>): how many.</summary>
    public static Task<long> InsertDemoHistoryAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long tenantId, IReadOnlyList<DemoAppointment> appointments,
        CancellationToken cancellationToken) =>
        connection.ExecuteScalarAsync<long>(new CommandDefinition(
            DemoHistorySql,
            new
            {
                tenantId,
                ids = appointments.Select(a => a.Id).ToArray(),
                externalIds = appointments.Select(a => a.ExternalId).ToArray(),
                startsAts = appointments.Select(a => DateTime.SpecifyKind(a.StartsAt, DateTimeKind.Utc)).ToArray(),
                statuses = appointments.Select(a => a.Status).ToArray(),
                channels = appointments.Select(a => a.Channel).ToArray(),
                holdouts = appointments.Select(a => a.Holdout).ToArray(),
                risks = appointments.Select(a => a.Risk).ToArray(),
            },
            transaction,
            cancellationToken: cancellationToken));

    // Draws in [0, 1) from the hash of the external id, as the appointments' own.
    private const string DemoHistorySql = """
        with inserted as (
            select * from unnest(@ids, @externalIds, @startsAts, @statuses, @channels, @holdouts, @risks)
                as i(id, external_id, starts_at, status, channel, holdout, risk)
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
        select (select count(*) from reminders) + (select count(*) from extra_calls) + (select count(*) from replies)
        """;
}
