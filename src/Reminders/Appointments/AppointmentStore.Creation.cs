using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Messages;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Telemetry;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Appointments;

/// <summary>
/// Creations: the request's side (<see cref="TryCreateAsync"/>) and the batch's statement
/// (<see cref="InsertCreations"/>); <see cref="CreationBatcher"/> gathers them in between.
/// </summary>
public sealed partial class AppointmentStore
{
    private readonly CreationBatcher creations = WriterConnection.Batcher(db, clock);

    /// <param name="RiskRoll">0 to 99, drawn at the request: below the rule's holdoutPercent, an at-risk appointment is held out.</param>
    internal sealed record NewAppointment(
        long TenantId, string ExternalId, AppointmentData Data, bool Holdout, byte[] Hash, string Source,
        DateTimeOffset? SourceUpdatedAt, DateTimeOffset Now, PlanRows BasePlan, string Language, string? Variant,
        TenantSettings Settings, int RiskRoll)
    {
        /// <summary>What the writer drew (AppointmentStore.Risk.cs): written, then the answer. Set before <see cref="Done"/> completes.</summary>
        public string Risk { get; set; } = Risks.None;

        /// <summary>The plan written: the tenant's, or with the rule's extra reminders when targeted.</summary>
        public PlanRows Plan { get; set; } = BasePlan;

        /// <summary>The request's span, taken when it is queued: the writer runs outside any request.</summary>
        public string? Traceparent { get; } = RappelTelemetry.CurrentTraceparent();

        /// <summary>The created row, or null when the appointment already exists.</summary>
        public TaskCompletionSource<CreatedRow?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int state; // 0 queued, 1 taken by the writer, 2 abandoned by its request

        /// <summary>The writer takes it; false when its request gave up first.</summary>
        public bool TryTake() => Interlocked.CompareExchange(ref state, 1, 0) == 0;

        /// <summary>Its request gives up; false when the writer already took it (it may be written).</summary>
        public bool TryAbandon() => Interlocked.CompareExchange(ref state, 2, 0) == 0;
    }

    internal sealed record CreatedRow(long Id, long TenantId, string ExternalId, bool OptedOut);

    /// <summary>
    /// Creates the appointment and its plan, or returns null when it already exists. The answer is
    /// built from what was written: the same as a GET would read.
    /// </summary>
    private async Task<WriteResult?> TryCreateAsync(
        long tenantId, TenantSettings settings, string externalId, AppointmentData data, byte[] hash,
        string source, DateTimeOffset? sourceUpdatedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var holdout = settings.HoldoutPercent > 0 && Random.Shared.Next(100) < settings.HoldoutPercent;
        var plan = PlanRows.From(ReminderPlanner.Plan(ToPlanInput(data, holdout), settings, PlanReason.Created, now), now);
        // A wording trial draws every new appointment, whichever agenda sent it (RDV-Solidarités included).
        var variant = settings.Texts?.Experiment?.Draw(Random.Shared);
        var creation = new NewAppointment(tenantId, externalId, data, holdout, hash, source, sourceUpdatedAt, now, plan,
            LanguageOf(data, settings), variant, settings, Random.Shared.Next(100));
        var row = await creations.WriteAsync(creation, cancellationToken);
        if (row is null)
        {
            return null;
        }

        var view = new AppointmentView(
            externalId, Timestamps.Stored(data.StartsAt), data.DurationMinutes, AppointmentStatus.Scheduled, null,
            new CitizenView(data.Phone, data.Channel, row.OptedOut, creation.Language), data.Service,
            Location(data.LocationName, data.LocationAddress, data.LocationPhone),
            data.Mode,
            [.. creation.Plan.Views().OrderBy(m => m.DueAt).ThenBy(m => m.Id.ToString(), StringComparer.Ordinal)],
            variant,
            creation.Risk);
        return new WriteResult(WriteOutcome.Created, row.Id, View: view);
    }

    /// <summary>
    /// The batch's statement, written with named parameters and sent with positional ones (<c>$1</c>,
    /// <c>$2</c>…): Npgsql sends such a statement as it is, where it would otherwise parse its text on
    /// every call to rewrite each <c>@name</c>. The writer's thread is the pace of intake.
    /// </summary>
    private static readonly PositionalSql InsertCreationsSql = PositionalSql.From(
        $"""
        with appointment as (
            insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, phone, first_name, last_name,
                phone_is_mobile, channel, service, location_name, location_address, location_phone, mode, holdout,
                content_hash, source, source_updated_at, created_at, updated_at, status_changed_at, language, variant, risk)
            select n.tenant_id, n.external_id, n.starts_at, n.duration_minutes, 'scheduled', n.phone, n.first_name, n.last_name,
                n.phone_is_mobile, n.channel, n.service, n.location_name, n.location_address, n.location_phone, n.mode, n.holdout,
                decode(n.content_hash, 'hex'), n.source, n.source_updated_at, n.now, n.now, n.now, n.language, n.variant, n.risk
            from unnest(@TenantIds, @ExternalIds, @StartsAts, @Durations, @Phones, @FirstNames, @LastNames, @Mobiles, @Channels,
                @Services, @LocationNames, @LocationAddresses, @LocationPhones, @Modes, @Holdouts, @Hashes, @Sources,
                @SourceUpdatedAts, @Nows, @Languages, @Variants, @Risks)
                as n(tenant_id, external_id, starts_at, duration_minutes, phone, first_name, last_name, phone_is_mobile, channel,
                service, location_name, location_address, location_phone, mode, holdout, content_hash, source,
                source_updated_at, now, language, variant, risk)
                cross join ({StatsWrittenFlag}) as stats_written
            on conflict (tenant_id, external_id) do nothing
            returning id, tenant_id, external_id, phone, starts_at, service, location_name, channel, holdout, language, variant, risk),
        {MessagePlans.CreationPlansCte},
        {StatsLedgerCte}
        select a.id, a.tenant_id, a.external_id,
               exists (select 1 from opt_outs o where o.tenant_id = a.tenant_id and o.phone = a.phone) as opted_out
        from appointment a
        """);

    /// <summary>
    /// The statistics ledger's rows for the appointments the batch created, in the batch's statement,
    /// as the statement-level trigger on appointments would write them (<c>appointment_stats_track</c>,
    /// last written in 0014_risk_reminders.sql, its INSERT branch, for appointments that are new: scheduled, neither
    /// confirmed nor with an outcome). The trigger would run a second plan through PL/pgSQL on a copy of
    /// the rows, once a batch, on the writer's path: the batch says it wrote them (<see cref="StatsWrittenFlag"/>)
    /// and the trigger stands aside (0022_creation_stats.sql). Every other insert keeps the trigger.
    /// </summary>
    private const string StatsLedgerCte =
        """
        ledger as (
            insert into appointment_stat_changes
                (tenant_id, day, service, location_name, channel, confirmed, holdout, language, variant, risk,
                 appointments, honoured, no_show, excused, cancelled)
            select a.tenant_id, (a.starts_at at time zone coalesce(t.settings ->> 'timeZone', 'Europe/Paris'))::date,
                   coalesce(a.service, ''), coalesce(a.location_name, ''), a.channel, false, a.holdout,
                   a.language, coalesce(a.variant, ''), a.risk,
                   count(*), 0, 0, 0, 0
            from appointment a
                 join tenants t on t.id = a.tenant_id
            group by 1, 2, 3, 4, 5, 7, 8, 9, 10)
        """;

    /// <summary>
    /// Tells the trigger on appointments that the batch's statement writes its own ledger rows; local to the
    /// transaction, so gone with its commit or rollback. Read as the appointments' insert takes its rows, so
    /// set before that insert ends and the trigger's <c>WHEN</c> is read. Inside the statement, not a
    /// statement of its own before it: Npgsql writes the second and later statements of a synchronous
    /// batch on the thread pool (its guard against deadlocks with large results), which put every batch's
    /// statement behind the Api's requests waiting there (docs/BENCHMARKS.md, "Intake").
    /// </summary>
    private const string StatsWrittenFlag = "select set_config('rappel.stats_written', 'on', true)";

    /// <summary>
    /// The creation writer's connection, kept from one batch to the next while the writer runs, and given
    /// back to the pool when it stops (<see cref="CreationBatcher"/>'s linger). Taken from the pool for each
    /// batch, it was a different one each time (Npgsql hands out the connection idle the longest): each
    /// batch woke another PostgreSQL backend, its caches cold. Kept, one backend serves every batch, and
    /// PostgreSQL's CPU a creation fell by a quarter (docs/BENCHMARKS.md, "Intake").
    /// <para>
    /// A connection found broken by a batch (the database restarted, its backend terminated, the network
    /// cut while it was idle) is dropped with the pool's idle ones, which most likely died with it, and the
    /// batch runs once more on a new connection: the statement almost always never ran. If it did run and
    /// commit before the break, the second run finds its appointments and they take the path of an
    /// appointment that exists, as an agenda's retry of the same PUT would (200 rather than 201, nothing
    /// written twice). Used by the writer's thread only: one writer runs at a time.
    /// </para>
    /// </summary>
    private sealed class WriterConnection(NpgsqlDataSource db)
    {
        private NpgsqlConnection? connection;

        public static CreationBatcher Batcher(NpgsqlDataSource db, TimeProvider clock)
        {
            var writer = new WriterConnection(db);
            return new CreationBatcher(writer.Insert, clock, writerStopped: writer.Close);
        }

        private Dictionary<(long, string), CreatedRow> Insert(List<NewAppointment> batch)
        {
            for (var attempt = 1; ; attempt++)
            {
                var open = connection ??= db.OpenConnection();
                try
                {
                    return InsertCreations(open, batch);
                }
                catch (Exception) when (open.FullState != System.Data.ConnectionState.Open)
                {
                    // Broken: dropped, with the pool's idle connections; the batch once more on a new one.
                    Close();
                    db.Clear();
                    if (attempt == 2)
                    {
                        throw;
                    }
                }
            }
        }

        private void Close()
        {
            connection?.Dispose();
            connection = null;
        }
    }

    /// <summary>A batch of creations, in one statement: the rows created (an appointment that already exists has none).</summary>
    /// <remarks>Synchronous: it runs on the writer's own thread (<see cref="CreationBatcher"/>), on its connection.</remarks>
    private static Dictionary<(long, string), CreatedRow> InsertCreations(NpgsqlConnection connection, List<NewAppointment> batch)
    {
        // The batch's own span, linked to the request of each creation in it.
        using var span = RappelTelemetry.StartBatch("write creations", batch.Select(c => c.Traceparent), ("rappel.batch.size", batch.Count));
        // Before the plans are read: a targeted appointment's plan gains the rule's extra reminders.
        DrawRisks(connection, batch);
        var messages = batch.SelectMany(c => c.Plan.Ids.Select((id, i) => (Creation: c, Index: i))).ToList();
        // One statement, its own transaction: the flag, every appointment, message and ledger row of the batch;
        // all of it, or none. Written whole by the writer's thread (StatsWrittenFlag says why one).
        using var statement = new NpgsqlBatch(connection);
        statement.BatchCommands.Add(InsertCreationsSql.BatchCommand(new Dictionary<string, NpgsqlParameter>
        {
            ["TenantIds"] = Typed(batch.Select(c => c.TenantId).ToArray()),
            ["ExternalIds"] = Typed(batch.Select(c => c.ExternalId).ToArray()),
            ["StartsAts"] = Typed(batch.Select(c => c.Data.StartsAt.UtcDateTime).ToArray()),
            ["Durations"] = Typed(batch.Select(c => c.Data.DurationMinutes).ToArray()),
            ["Phones"] = Typed(batch.Select(c => c.Data.Phone).ToArray()),
            ["FirstNames"] = Typed(batch.Select(c => c.Data.FirstName).ToArray()),
            ["LastNames"] = Typed(batch.Select(c => c.Data.LastName).ToArray()),
            ["Mobiles"] = Typed(batch.Select(c => c.Data.PhoneIsMobile).ToArray()),
            ["Channels"] = Typed(batch.Select(c => c.Data.Channel).ToArray()),
            ["Services"] = Typed(batch.Select(c => c.Data.Service).ToArray()),
            ["LocationNames"] = Typed(batch.Select(c => c.Data.LocationName).ToArray()),
            ["LocationAddresses"] = Typed(batch.Select(c => c.Data.LocationAddress).ToArray()),
            ["LocationPhones"] = Typed(batch.Select(c => c.Data.LocationPhone).ToArray()),
            ["Modes"] = Typed(batch.Select(c => c.Data.Mode).ToArray()),
            ["Holdouts"] = Typed(batch.Select(c => c.Holdout).ToArray()),
            // An array of bytea would do, but hex text keeps every parameter a plain array.
            ["Hashes"] = Typed(batch.Select(c => Convert.ToHexStringLower(c.Hash)).ToArray()),
            ["Sources"] = Typed(batch.Select(c => c.Source).ToArray()),
            ["SourceUpdatedAts"] = Typed(batch.Select(c => c.SourceUpdatedAt?.UtcDateTime).ToArray()),
            ["Nows"] = Typed(batch.Select(c => c.Now.UtcDateTime).ToArray()),
            ["Languages"] = Typed(batch.Select(c => c.Language).ToArray()),
            ["Variants"] = Typed(batch.Select(c => c.Variant).ToArray()),
            ["Risks"] = Typed(batch.Select(c => c.Risk).ToArray()),
            ["MessageTenantIds"] = Typed(messages.Select(m => m.Creation.TenantId).ToArray()),
            ["MessageExternalIds"] = Typed(messages.Select(m => m.Creation.ExternalId).ToArray()),
            ["MessageIds"] = Typed(messages.Select(m => m.Creation.Plan.Ids[m.Index]).ToArray()),
            ["Kinds"] = Typed(messages.Select(m => m.Creation.Plan.Kinds[m.Index]).ToArray()),
            ["MessageChannels"] = Typed(messages.Select(m => m.Creation.Plan.Channels[m.Index]).ToArray()),
            ["Steps"] = Typed(messages.Select(m => m.Creation.Plan.Steps[m.Index]).ToArray()),
            ["OnlyIfUnconfirmed"] = Typed(messages.Select(m => m.Creation.Plan.OnlyIfUnconfirmed[m.Index]).ToArray()),
            ["DueAts"] = Typed(messages.Select(m => m.Creation.Plan.DueAts[m.Index]).ToArray()),
            ["Statuses"] = Typed(messages.Select(m => m.Creation.Plan.Statuses[m.Index]).ToArray()),
            ["Errors"] = Typed(messages.Select(m => m.Creation.Plan.Errors[m.Index]).ToArray()),
            ["MessageNows"] = Typed(messages.Select(m => m.Creation.Now.UtcDateTime).ToArray()),
            ["MessageTraceparents"] = Typed(messages.Select(m => m.Creation.Traceparent).ToArray()),
        }));
        using var reader = statement.ExecuteReader();
        var rows = new Dictionary<(long, string), CreatedRow>(batch.Count);
        while (reader.Read())
        {
            var row = new CreatedRow(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetBoolean(3));
            rows[(row.TenantId, row.ExternalId)] = row;
        }

        return rows;
    }

    private static NpgsqlParameter<T> Typed<T>(T value) => new() { TypedValue = value };
}

/// <summary>The creation queue is full, or could not be written in time: the request is a 503 with Retry-After.</summary>
public sealed class IntakeFullException(string message) : Exception(message);
