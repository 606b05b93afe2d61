using Npgsql;

namespace RappelRdv.Worker.Hosting;

/// <summary>
/// The skeleton the Worker's claim loops (dispatch, events, RDV-Solidarités write-backs) share: what one
/// round's error does (<see cref="EndsLoop"/>) and the wait when a round found nothing
/// (<see cref="IdleAsync"/>). A loop that ended would leave the Worker idle for the rest of its life (a
/// hosted service that throws stops the host), so only a stop ends it:
/// <list type="bullet">
/// <item>the host is stopping and the round was cancelled: the loop leaves;</item>
/// <item>the database does not answer: the pool is cleared (its idle connections died with the
/// server, the next round opens fresh ones), and the loop goes on after its idle wait;</item>
/// <item>anything else: logged as an error, and the loop goes on.</item>
/// </list>
/// </summary>
internal static class ClaimLoops
{
    /// <summary>
    /// True when the loop must leave (<paramref name="error"/> is the stop's cancellation); otherwise
    /// the error is dealt with as above and the loop goes on. <paramref name="loop"/> names it in the log.
    /// </summary>
    public static bool EndsLoop(Exception error, CancellationToken stopping, NpgsqlDataSource db, ILogger logger, string loop)
    {
        switch (error)
        {
            case OperationCanceledException when stopping.IsCancellationRequested:
                return true;
            case NpgsqlException or TimeoutException:
                logger.LogWarning("{Loop} paused: the database does not answer ({Reason})", loop, error.Message);
                db.Clear();
                return false;
            default:
                logger.LogError(error, "{Loop}: a round failed; the loop goes on", loop);
                return false;
        }
    }

    /// <summary>A round found nothing: waits <paramref name="idleDelay"/> on the loop's clock. False when the host stops meanwhile.</summary>
    public static async Task<bool> IdleAsync(TimeSpan idleDelay, TimeProvider clock, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(idleDelay, clock, stopping);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
