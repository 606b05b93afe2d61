using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Planning;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Appointments;

/// <summary>
/// Creations, written together. An agenda's sync pushes many new appointments at once; each
/// creation is one appointment row, its plan and a statistics ledger row. Written one by one,
/// every PUT paid its own statement, commit and disk flush, and PostgreSQL's statement-level
/// triggers ran once per appointment. Here creations that arrive while others are being written
/// wait a moment and then go in together: one statement and one commit for the whole batch.
/// Each request still answers only once its appointment is committed, and a batch that fails
/// because PostgreSQL refused a row is retried one creation at a time, so that one bad row fails only
/// its own request.
/// <para>
/// The queue is bounded, in all and per tenant (one agenda's flood fills its own share, not the
/// others'): beyond it, or when a creation is not written within <see cref="CreationWriteTimeout"/>
/// (PostgreSQL paused or overloaded), the request fails with <see cref="IntakeFullException"/>, a 503
/// with Retry-After. A creation whose request was abandoned while it waited is dropped, not written.
/// </para>
/// </summary>
public sealed partial class AppointmentStore
{
    /// <summary>One batch is written at a time; the next fills meanwhile (2 or 4 writers were slower: bench/intake.sh).</summary>
    private const int CreationWriters = 1;

    private const int MaxCreationBatch = 64;

    /// <summary>Creations waiting in all: 64 batches, a few seconds of the writer's pace (bench/intake.sh).</summary>
    internal const int MaxQueuedCreations = 4096;

    /// <summary>Creations one tenant may have waiting: a quarter of the queue.</summary>
    internal const int MaxQueuedPerTenant = MaxQueuedCreations / 4;

    /// <summary>How long a request waits for its creation to be written before it hears 503.</summary>
    public static readonly TimeSpan CreationWriteTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentQueue<NewAppointment> creations = new();
    private readonly ConcurrentDictionary<long, int> queuedByTenant = new();
    private int queuedCreations;
    private readonly SemaphoreSlim creationWriters = new(CreationWriters, CreationWriters);

    /// <param name="RiskRoll">0 to 99, drawn at the request: below the rule's holdoutPercent, an at-risk appointment is held out.</param>
    private sealed record NewAppointment(
        long TenantId, string ExternalId, AppointmentData Data, bool Holdout, byte[] Hash, string Source,
        DateTimeOffset? SourceUpdatedAt, DateTimeOffset Now, PlanRows BasePlan, string Language, string? Variant,
        TenantSettings Settings, int RiskRoll)
    {
        /// <summary>What the writer drew (AppointmentStore.Risk.cs): written, then the answer. Set before <see cref="Done"/> completes.</summary>
        public string Risk { get; set; } = Risks.None;

        /// <summary>The plan written: the tenant's, or with the rule's extra reminders when targeted.</summary>
        public PlanRows Plan { get; set; } = BasePlan;

        /// <summary>The created row, or null when the appointment already exists.</summary>
        public TaskCompletionSource<CreatedRow?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private int state; // 0 queued, 1 taken by the writer, 2 abandoned by its request

        /// <summary>The writer takes it; false when its request gave up first.</summary>
        public bool TryTake() => Interlocked.CompareExchange(ref state, 1, 0) == 0;

        /// <summary>Its request gives up; false when the writer already took it (it may be written).</summary>
        public bool TryAbandon() => Interlocked.CompareExchange(ref state, 2, 0) == 0;
    }

    private sealed record CreatedRow(long Id, long TenantId, string ExternalId, bool OptedOut);

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
        Admit(tenantId);
        creations.Enqueue(creation);
        StartCreationWriter();

        CreatedRow? row;
        try
        {
            row = await creation.Done.Task.WaitAsync(CreationWriteTimeout, clock, cancellationToken);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Still queued: dropped, never written. Already taken: its batch may still commit, which a
            // retry of this idempotent PUT then finds.
            creation.TryAbandon();
            if (e is TimeoutException)
            {
                throw new IntakeFullException($"The appointment could not be written within {CreationWriteTimeout.TotalSeconds:0} s.");
            }

            throw;
        }

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

    /// <summary>Counts a creation in, or refuses it when the queue, or its tenant's share, is full.</summary>
    private void Admit(long tenantId)
    {
        if (Interlocked.Increment(ref queuedCreations) > MaxQueuedCreations)
        {
            Interlocked.Decrement(ref queuedCreations);
            throw new IntakeFullException("Too many appointments are waiting to be written.");
        }

        if (queuedByTenant.AddOrUpdate(tenantId, 1, (_, count) => count + 1) > MaxQueuedPerTenant)
        {
            Leave(tenantId);
            throw new IntakeFullException("Too many appointments of this tenant are waiting to be written.");
        }
    }

    private void Leave(long tenantId)
    {
        Interlocked.Decrement(ref queuedCreations);
        queuedByTenant.AddOrUpdate(tenantId, 0, (_, count) => count - 1);
    }

    private void StartCreationWriter()
    {
        if (creationWriters.Wait(0))
        {
            _ = Task.Run(WriteCreationsAsync);
        }
    }

    /// <summary>Writes batches until the queue is empty. Runs on the thread pool, never in a request.</summary>
    private async Task WriteCreationsAsync()
    {
        while (true)
        {
            var batch = new List<NewAppointment>(MaxCreationBatch);
            var keys = new HashSet<(long, string)>();
            var repeated = new List<NewAppointment>();
            while (batch.Count < MaxCreationBatch && creations.TryDequeue(out var creation))
            {
                Leave(creation.TenantId);
                if (!creation.TryTake())
                {
                    // Its request gave up (cancelled, or timed out) while it waited: never written.
                    continue;
                }

                // The same appointment twice in one statement would get both plans: the second waits for the first.
                (keys.Add((creation.TenantId, creation.ExternalId)) ? batch : repeated).Add(creation);
            }

            if (batch.Count == 0)
            {
                creationWriters.Release();
                // A creation queued after we looked and before we released would otherwise wait for the next one.
                if (!creations.IsEmpty && creationWriters.Wait(0))
                {
                    continue;
                }

                return;
            }

            await WriteCreationBatchAsync(batch);
            foreach (var creation in repeated)
            {
                // The first of them is committed now: this one takes the path of an existing appointment.
                creation.Done.TrySetResult(null);
            }
        }
    }

    private async Task WriteCreationBatchAsync(List<NewAppointment> batch)
    {
        try
        {
            var rows = await InsertCreationsAsync(batch);
            foreach (var creation in batch)
            {
                creation.Done.TrySetResult(rows.GetValueOrDefault((creation.TenantId, creation.ExternalId)));
            }
        }
        catch (PostgresException) when (batch.Count > 1)
        {
            // PostgreSQL refused a row and nothing of the batch was written: each creation again, alone,
            // so that only the bad one fails.
            foreach (var creation in batch)
            {
                await WriteCreationBatchAsync([creation]);
            }
        }
        catch (Exception e)
        {
            // The database could not be reached or did not answer: every request of the batch hears it now,
            // rather than each waiting for its own timeout in turn.
            foreach (var creation in batch)
            {
                creation.Done.TrySetException(e);
            }
        }
    }

    private async Task<Dictionary<(long, string), CreatedRow>> InsertCreationsAsync(List<NewAppointment> batch)
    {
        await using var connection = await db.OpenConnectionAsync();
        // Before the plans are read: a targeted appointment's plan gains the rule's extra reminders.
        await DrawRisksAsync(connection, batch);
        var messages = batch.SelectMany(c => c.Plan.Ids.Select((id, i) => (Creation: c, Index: i))).ToList();
        // One statement, hence one transaction: every appointment and message of the batch, or none.
        var rows = await connection.QueryAsync<CreatedRow>(
            """
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
                on conflict (tenant_id, external_id) do nothing
                returning id, tenant_id, external_id, phone),
            plan as (
                insert into messages (id, appointment_id, tenant_id, kind, channel, step, only_if_unconfirmed, plan_version,
                    due_at, status, error, created_at, updated_at)
                select p.id, a.id, a.tenant_id, p.kind, p.channel, p.step, p.only_if_unconfirmed, 1, p.due_at, p.status, p.error, p.now, p.now
                from appointment a
                join unnest(@MessageTenantIds, @MessageExternalIds, @MessageIds, @Kinds, @MessageChannels, @Steps, @OnlyIfUnconfirmed,
                    @DueAts, @Statuses, @Errors, @MessageNows)
                    as p(tenant_id, external_id, id, kind, channel, step, only_if_unconfirmed, due_at, status, error, now)
                    on p.tenant_id = a.tenant_id and p.external_id = a.external_id)
            select a.id, a.tenant_id, a.external_id,
                   exists (select 1 from opt_outs o where o.tenant_id = a.tenant_id and o.phone = a.phone) as opted_out
            from appointment a
            """,
            new
            {
                TenantIds = batch.Select(c => c.TenantId).ToArray(),
                ExternalIds = batch.Select(c => c.ExternalId).ToArray(),
                StartsAts = batch.Select(c => c.Data.StartsAt.UtcDateTime).ToArray(),
                Durations = batch.Select(c => c.Data.DurationMinutes).ToArray(),
                Phones = batch.Select(c => c.Data.Phone).ToArray(),
                FirstNames = batch.Select(c => c.Data.FirstName).ToArray(),
                LastNames = batch.Select(c => c.Data.LastName).ToArray(),
                Mobiles = batch.Select(c => c.Data.PhoneIsMobile).ToArray(),
                Channels = batch.Select(c => c.Data.Channel).ToArray(),
                Services = batch.Select(c => c.Data.Service).ToArray(),
                LocationNames = batch.Select(c => c.Data.LocationName).ToArray(),
                LocationAddresses = batch.Select(c => c.Data.LocationAddress).ToArray(),
                LocationPhones = batch.Select(c => c.Data.LocationPhone).ToArray(),
                Modes = batch.Select(c => c.Data.Mode).ToArray(),
                Holdouts = batch.Select(c => c.Holdout).ToArray(),
                // An array of bytea would do, but hex text keeps every parameter a plain array.
                Hashes = batch.Select(c => Convert.ToHexStringLower(c.Hash)).ToArray(),
                Sources = batch.Select(c => c.Source).ToArray(),
                SourceUpdatedAts = batch.Select(c => c.SourceUpdatedAt?.UtcDateTime).ToArray(),
                Nows = batch.Select(c => c.Now.UtcDateTime).ToArray(),
                Languages = batch.Select(c => c.Language).ToArray(),
                Variants = batch.Select(c => c.Variant).ToArray(),
                Risks = batch.Select(c => c.Risk).ToArray(),
                MessageTenantIds = messages.Select(m => m.Creation.TenantId).ToArray(),
                MessageExternalIds = messages.Select(m => m.Creation.ExternalId).ToArray(),
                MessageIds = messages.Select(m => m.Creation.Plan.Ids[m.Index]).ToArray(),
                Kinds = messages.Select(m => m.Creation.Plan.Kinds[m.Index]).ToArray(),
                MessageChannels = messages.Select(m => m.Creation.Plan.Channels[m.Index]).ToArray(),
                Steps = messages.Select(m => m.Creation.Plan.Steps[m.Index]).ToArray(),
                OnlyIfUnconfirmed = messages.Select(m => m.Creation.Plan.OnlyIfUnconfirmed[m.Index]).ToArray(),
                DueAts = messages.Select(m => m.Creation.Plan.DueAts[m.Index]).ToArray(),
                Statuses = messages.Select(m => m.Creation.Plan.Statuses[m.Index]).ToArray(),
                Errors = messages.Select(m => m.Creation.Plan.Errors[m.Index]).ToArray(),
                MessageNows = messages.Select(m => m.Creation.Now.UtcDateTime).ToArray(),
            });
        return rows.ToDictionary(r => (r.TenantId, r.ExternalId));
    }
}

/// <summary>The creation queue is full, or could not be written in time: the request is a 503 with Retry-After.</summary>
public sealed class IntakeFullException(string message) : Exception(message);
