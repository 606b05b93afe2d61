using Hangfire;
using Npgsql;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// The Hangfire side of dispatch. A recurring job each minute starts a few dispatch slices;
/// Hangfire hands them to whichever Workers are free, and each slice claims due messages
/// (FOR UPDATE SKIP LOCKED) every second until the minute is over. Due messages thus leave
/// within a couple of seconds, however many Workers share the database. The same loop reconciles in
/// the background the claims a crash left behind. Events to agendas are not delivered here but by
/// their own loop (<see cref="Events.EventDelivery"/>): an agenda's answer never holds a send slot.
/// Once the slices are enqueued, the tick does the <see cref="Housekeeping"/> (budgets, balance,
/// erasure at Twilio). See docs/ARCHITECTURE.md and docs/RELIABILITY.md.
/// </summary>
internal sealed class DispatchJobs(
    NpgsqlDataSource db, Dispatcher dispatcher, Housekeeping housekeeping, IBackgroundJobClient jobs, DispatchOptions options,
    TimeProvider clock, ILogger<DispatchJobs> logger, IHostApplicationLifetime? host = null)
{
    public const string TickJobId = "dispatch";

    // Slices stop a little before the next tick starts new ones.
    private static readonly TimeSpan SliceLength = TimeSpan.FromSeconds(55);

    // A tick or a slice that fails is deleted, not kept in Hangfire's Failed list: the next tick starts
    // fresh ones within the minute, and the error is in the Worker's log.
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    // No CancellationToken parameter: Hangfire finds a job by its method's name and parameter types,
    // and Workers of the previous version, which run beside these during a rolling deploy, know Tick().
    // The host's stopping token serves instead (none in the tests, which build no host).
    public async Task Tick()
    {
        var stopping = host?.ApplicationStopping ?? CancellationToken.None;
        var until = clock.GetUtcNow().Add(SliceLength).UtcDateTime;
        for (var i = 0; i < options.Slices; i++)
        {
            jobs.Enqueue<DispatchJobs>(j => j.RunSlice(until, CancellationToken.None));
        }

        // After the slices: a chore that fails or waits on Twilio never delays dispatch.
        await housekeeping.RunAsync(stopping);
    }

    /// <summary>
    /// Sends and reconciles until <paramref name="until"/>, or until the Worker stops
    /// (<paramref name="stopping"/>, Hangfire's shutdown token): then it claims nothing more, lets the
    /// sends at Twilio finish and gives back what it had not started. A database that goes away
    /// pauses the slice rather than ending it.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public async Task RunSlice(DateTime until, CancellationToken stopping)
    {
        var nextRecovery = clock.GetUtcNow();
        var recovery = Task.CompletedTask;
        // Kept across rounds: a send that waits on Twilio holds one slot, never the loop.
        var sends = dispatcher.NewSends();
        while (clock.GetUtcNow().UtcDateTime < until && !stopping.IsCancellationRequested)
        {
            // In the background: a slow or failing Twilio look-up never holds the sends back.
            if (recovery.IsCompleted && clock.GetUtcNow() >= nextRecovery)
            {
                recovery = RecoverAsync(stopping);
                nextRecovery = clock.GetUtcNow() + options.RecoveryInterval;
            }

            var busy = false;
            try
            {
                // Short rounds: the slice's end is looked at every few seconds, and a
                // slice never runs far past its minute (overlapping slices would hold twice the connections).
                busy |= await dispatcher.DispatchDueAsync(sends, stopping, maxClaims: 4 * options.Parallelism) > 0;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && !stopping.IsCancellationRequested)
            {
                logger.LogWarning("Dispatch paused: the database does not answer ({Reason})", e.Message);
                // Its idle connections died with it: the next round opens fresh ones.
                db.Clear();
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }

            if (!busy)
            {
                try
                {
                    await Task.Delay(options.IdleDelay, clock, stopping);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        // Stopping or not, the sends at Twilio finish and are recorded; those not started give their claims back.
        await sends.DrainAsync();
        await recovery;
    }

    private async Task RecoverAsync(CancellationToken stopping)
    {
        try
        {
            await Task.Yield();
            await dispatcher.RecoverAsync(stopping);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            logger.LogWarning(e, "Reconciliation of stuck claims failed; it runs again in {Interval}", options.RecoveryInterval);
        }
        catch (OperationCanceledException)
        {
            // Stopping: the next Worker's slices reconcile what is left.
        }
    }
}
