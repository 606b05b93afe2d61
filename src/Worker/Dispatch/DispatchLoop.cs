using Npgsql;
using RappelRdv.Worker.Hosting;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// A Worker's own dispatch loops (<c>Dispatch__Slices</c> of them, each with <c>Dispatch__Parallelism</c>
/// send slots), run for the Worker's whole life as a hosted service, like the events loop. Each claims
/// due messages (FOR UPDATE SKIP LOCKED) only for its free send slots, so the due work spreads over
/// the running Workers as their slots free up: no Worker idles while another holds more than it can
/// send. Until issue 28 the loops were Hangfire jobs handed out each minute, and Hangfire's fetch
/// order gave them all to the Worker that ran the tick (docs/ARCHITECTURE.md).
/// <para>
/// Stopping (SIGTERM): the host's stopping token ends the claims at once, the sends already at
/// Twilio finish and are recorded, and the claims not started go back to <c>pending</c> before the
/// loop returns (within Worker__StopTimeout). A database that goes away pauses the loop, never ends it.
/// </para>
/// </summary>
internal sealed class DispatchLoop(
    NpgsqlDataSource db, Dispatcher dispatcher, DispatchOptions options, TimeProvider clock, ILogger<DispatchLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: the first statement would otherwise hold the other hosted services back.
        await Task.Yield();
        await Task.WhenAll(Enumerable.Range(0, options.Slices).Select(_ => RunAsync(DateTime.MaxValue, stoppingToken)));
    }

    /// <summary>
    /// Sends and reconciles until <paramref name="until"/>, or until <paramref name="stopping"/> fires:
    /// then it claims nothing more, lets the sends at Twilio finish and gives back what it had not
    /// started. A database that goes away pauses the loop rather than ending it.
    /// </summary>
    public async Task RunAsync(DateTime until, CancellationToken stopping)
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
                // Short rounds: the end is looked at every few seconds.
                busy |= await dispatcher.DispatchDueAsync(sends, stopping, maxClaims: 4 * options.Parallelism) > 0;
            }
            catch (Exception e)
            {
                if (ClaimLoops.EndsLoop(e, stopping, db, logger, "Dispatch"))
                {
                    break;
                }
            }

            if (!busy && !await ClaimLoops.IdleAsync(options.IdleDelay, clock, stopping))
            {
                break;
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
            // Stopping: the other Workers' loops reconcile what is left.
        }
    }
}
