using System.Collections.Concurrent;
using Npgsql;

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
/// <param name="insert">Writes a batch, on the writer's thread.</param>
/// <param name="writerStopped">Called on the writer's thread as it stops, before another may start: what it held (its connection) goes.</param>
internal sealed class CreationBatcher(
    Func<List<AppointmentStore.NewAppointment>, Dictionary<(long, string), AppointmentStore.CreatedRow>> insert, TimeProvider clock,
    TimeSpan? writerLinger = null, Action? writerStopped = null)
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

    private readonly ConcurrentQueue<AppointmentStore.NewAppointment> creations = new();
    private readonly ConcurrentDictionary<long, int> queuedByTenant = new();
    private int queuedCreations;
    private readonly SemaphoreSlim creationWriters = new(CreationWriters, CreationWriters);

    /// <summary>How long the writer's thread waits for the next creation before it stops (2 s).</summary>
    private readonly TimeSpan linger = writerLinger ?? TimeSpan.FromSeconds(2);

    private int lingering; // 1 while the writer waits for a creation in AwaitCreation
    private readonly SemaphoreSlim arrived = new(0, 1);

    /// <summary>
    /// Queues a creation and waits until its batch is committed: the created row, or null when the
    /// appointment already exists.
    /// </summary>
    public async Task<AppointmentStore.CreatedRow?> WriteAsync(AppointmentStore.NewAppointment creation, CancellationToken cancellationToken)
    {
        Admit(creation.TenantId);
        creations.Enqueue(creation);
        WakeCreationWriter();

        try
        {
            return await creation.Done.Task.WaitAsync(CreationWriteTimeout, clock, cancellationToken);
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
            // Not in the context of the request that happened to start it: its span (and log scope) would
            // become the parent of every batch the writer goes on to write. Each creation carries its own.
            using (ExecutionContext.SuppressFlow())
            {
                new Thread(WriteCreations) { IsBackground = true, Name = "Creation writer" }.Start();
            }
        }
    }

    /// <summary>
    /// Writes batches until the queue has stayed empty for the linger (2 s). Its own thread, with
    /// synchronous I/O: when PostgreSQL answers, the kernel wakes this thread, rather than queueing the
    /// writer's continuation behind the requests waiting for the thread pool (ARCHITECTURE.md, "Intake").
    /// </summary>
    private void WriteCreations()
    {
        while (true)
        {
            var batch = new List<AppointmentStore.NewAppointment>(MaxCreationBatch);
            var keys = new HashSet<(long, string)>();
            var repeated = new List<AppointmentStore.NewAppointment>();
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

            if (batch.Count > 0)
            {
                WriteCreationBatch(batch);
                foreach (var creation in repeated)
                {
                    // The first of them is committed now: this one takes the path of an existing appointment.
                    creation.Done.TrySetResult(null);
                }

                continue;
            }

            if (AwaitCreation())
            {
                continue;
            }

            writerStopped?.Invoke();
            creationWriters.Release();
            // A creation queued after we looked and before we released would otherwise wait for the next writer.
            if (!creations.IsEmpty && creationWriters.Wait(0))
            {
                continue;
            }

            return;
        }
    }

    /// <summary>
    /// The queue is empty: waits up to the linger (2 s) for a creation (a steady trickle of PUTs
    /// keeps one thread rather than starting one each). False when none came and the writer may stop.
    /// </summary>
    private bool AwaitCreation()
    {
        Volatile.Write(ref lingering, 1);
        if (!creations.IsEmpty)
        {
            // Queued just before the flag was up, or just after: in the second case its request took the
            // flag and is about to wake us, and that wake-up is taken here so that none is left over.
            if (Interlocked.Exchange(ref lingering, 0) == 0)
            {
                arrived.Wait();
            }

            return true;
        }

        if (arrived.Wait(linger))
        {
            // Woken by the request that queued a creation (it took the flag down).
            return true;
        }

        // Nothing came: down with the flag, unless a request took it in the meantime (then its wake-up is on the way).
        if (Interlocked.Exchange(ref lingering, 0) == 0)
        {
            arrived.Wait();
            return true;
        }

        return false;
    }

    /// <summary>Called by a request that queued a creation: wakes the lingering writer, or starts one.</summary>
    private void WakeCreationWriter()
    {
        if (Interlocked.Exchange(ref lingering, 0) == 1)
        {
            arrived.Release();
        }
        else
        {
            StartCreationWriter();
        }
    }

    private void WriteCreationBatch(List<AppointmentStore.NewAppointment> batch)
    {
        try
        {
            var rows = insert(batch);
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
                WriteCreationBatch([creation]);
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
}
