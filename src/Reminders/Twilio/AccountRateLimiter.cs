using System.Threading.RateLimiting;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace RappelRdv.Reminders.Twilio;

/// <summary>
/// The Twilio account's rate, shared by every Worker on the database (contract §9.8): a token bucket
/// in one row of <c>account_rate</c>, refilled lazily from the database's clock by the one statement
/// that takes tokens. Each Worker queues its requests here; one loop per Worker takes tokens for all
/// the requests waiting (a batch, one round trip) and lets that many go, oldest first.
/// <para>
/// Why a row and not shares leased per Worker (docs/ARCHITECTURE.md, "One rate for the account"): the
/// bucket needs no rebalancing — a Worker that stops simply stops taking, a new one starts taking at
/// once — and it holds whatever the number of Workers, where shares are wrong for a lease's length
/// after every start or stop. It costs one short <c>UPDATE</c> per batch of sends; a send already costs
/// several statements.
/// </para>
/// <para>
/// Overshoot: the bucket holds at most <see cref="Burst"/> tokens (a quarter of a second of the rate),
/// and a Worker holds no token it does not use at once, so over any window the account sees at most
/// the rate plus that burst: at 5 s, 5 % over.
/// </para>
/// </summary>
internal sealed class AccountRateLimiter : RateLimiter
{
    private readonly NpgsqlDataSource db;
    private readonly string bucket;
    private readonly int rate;
    private readonly ILogger logger;
    private readonly Queue<Waiter> waiting = new();
    private readonly SemaphoreSlim wake = new(0);
    private readonly CancellationTokenSource disposed = new();
    private readonly Lock gate = new();
    private Task? pump;

    public AccountRateLimiter(NpgsqlDataSource db, string bucket, int rate, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rate, 1);
        (this.db, this.bucket, this.rate, this.logger) = (db, bucket, rate, logger);
        Burst = Math.Max(1, rate / 4);
    }

    /// <summary>The most tokens the bucket holds: what may leave at once after a quiet moment.</summary>
    public int Burst { get; }

    public override TimeSpan? IdleDuration => null;

    public override RateLimiterStatistics? GetStatistics() => null;

    // Tokens are only ever taken from the database: a request that will not wait gets none.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => permitCount == 0 ? Granted : Refused;

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(permitCount, 1);
        if (permitCount == 0)
        {
            return ValueTask.FromResult<RateLimitLease>(Granted);
        }

        var waiter = new Waiter();
        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(() => waiter.Lease.TrySetCanceled(cancellationToken));
        }

        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed.IsCancellationRequested, this);
            waiting.Enqueue(waiter);
            pump ??= Task.Run(PumpAsync);
        }

        wake.Release();
        return new ValueTask<RateLimitLease>(waiter.Lease.Task);
    }

    private async Task PumpAsync()
    {
        var failures = 0;
        while (!disposed.IsCancellationRequested)
        {
            int want;
            lock (gate)
            {
                while (waiting.TryPeek(out var first) && first.Lease.Task.IsCompleted)
                {
                    waiting.Dequeue().Registration.Dispose();
                }

                want = Math.Min(waiting.Count, Burst);
            }

            if (want == 0)
            {
                try
                {
                    await wake.WaitAsync(disposed.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            double left;
            try
            {
                (var granted, left) = await TakeAsync(want, disposed.Token);
                failures = 0;
                Grant(granted);
            }
            catch (Exception e) when (!disposed.IsCancellationRequested)
            {
                // The database is away: sends cannot be recorded either. Waiters wait; we ask again.
                if (failures++ % 30 == 0)
                {
                    logger.LogWarning("Twilio rate ({Bucket}): tokens could not be taken from the database ({Reason}); trying again", bucket, e.Message);
                }

                left = -rate;
            }
            catch (OperationCanceledException)
            {
                break;
            }

            // Until one token is there again; not too often (a statement each), never so long that the rate is missed.
            var seconds = Math.Clamp((1 - left) / rate, 0.002, 1.0);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(seconds), TimeProvider.System, disposed.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void Grant(int granted)
    {
        lock (gate)
        {
            // A token given to a waiter that has just been cancelled is lost: less than the rate, never more.
            while (granted > 0 && waiting.TryDequeue(out var waiter))
            {
                waiter.Registration.Dispose();
                if (waiter.Lease.TrySetResult(Granted))
                {
                    granted--;
                }
            }
        }
    }

    /// <summary>
    /// Takes up to <paramref name="want"/> tokens in one statement: the bucket is refilled for the time
    /// since its last take (at most <see cref="Burst"/>), as many whole tokens as there are go, the rest
    /// stays. Returns how many were taken and what is left (a fraction).
    /// </summary>
    internal async Task<(int Granted, double Left)> TakeAsync(int want, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        // The new values name the row's columns (r.), not a snapshot read before: under concurrent takes,
        // ON CONFLICT DO UPDATE computes them from the row as the lock leaves it, so no token goes twice.
        return await connection.QuerySingleAsync<(int, double)>(new CommandDefinition(
            $"""
            with now as (select clock_timestamp() as t)
            insert into account_rate as r (bucket, tokens, granted, refilled_at)
            values (@bucket, 0, 0, (select t from now))
            on conflict (bucket) do update set
                granted = least(@want, floor({Available}))::int,
                tokens = {Available} - least(@want, floor({Available})),
                refilled_at = greatest(r.refilled_at, (select t from now))
            returning r.granted, r.tokens
            """,
            new { bucket, rate = (double)rate, burst = (double)Burst, want },
            cancellationToken: cancellationToken));
    }

    private const string Available =
        "least(@burst, r.tokens + @rate * greatest(0, extract(epoch from (select t from now) - r.refilled_at)::float8))";

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (gate)
            {
                if (disposed.IsCancellationRequested)
                {
                    return;
                }

                disposed.Cancel();
                while (waiting.TryDequeue(out var waiter))
                {
                    waiter.Registration.Dispose();
                    waiter.Lease.TrySetResult(Refused);
                }
            }
        }

        base.Dispose(disposing);
    }

    private sealed class Waiter
    {
        public TaskCompletionSource<RateLimitLease> Lease { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }

    private static readonly RateLimitLease Granted = new Lease(true);
    private static readonly RateLimitLease Refused = new Lease(false);

    private sealed class Lease(bool acquired) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
