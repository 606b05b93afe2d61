using Hangfire;
using RappelRdv.Worker.Events;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// The Hangfire side of dispatch. A recurring job each minute starts a few dispatch slices;
/// Hangfire hands them to whichever Workers are free, and each slice claims due messages
/// (FOR UPDATE SKIP LOCKED) every second until the minute is over. Due messages thus leave
/// within a couple of seconds, however many Workers share the database. The same loop delivers
/// the events due to agendas. See docs/ARCHITECTURE.md.
/// </summary>
internal sealed class DispatchJobs(Dispatcher dispatcher, EventDelivery events, IBackgroundJobClient jobs, DispatchOptions options, TimeProvider clock)
{
    public const string TickJobId = "dispatch";

    // Slices stop a little before the next tick starts new ones.
    private static readonly TimeSpan SliceLength = TimeSpan.FromSeconds(55);

    [AutomaticRetry(Attempts = 0)]
    public void Tick()
    {
        var until = clock.GetUtcNow().Add(SliceLength).UtcDateTime;
        for (var i = 0; i < options.Slices; i++)
        {
            jobs.Enqueue<DispatchJobs>(j => j.RunSlice(until, CancellationToken.None));
        }
    }

    // A slice that dies is not retried: the next tick starts fresh ones within the minute.
    [AutomaticRetry(Attempts = 0)]
    public async Task RunSlice(DateTime until, CancellationToken cancellationToken)
    {
        var nextRecovery = clock.GetUtcNow();
        while (clock.GetUtcNow().UtcDateTime < until && !cancellationToken.IsCancellationRequested)
        {
            if (clock.GetUtcNow() >= nextRecovery)
            {
                await dispatcher.RecoverAsync(cancellationToken);
                nextRecovery = clock.GetUtcNow() + options.RecoveryInterval;
            }

            var sent = await dispatcher.DispatchDueAsync(cancellationToken, maxBatches: 20);
            var delivered = await events.DeliverDueAsync(cancellationToken);
            if (sent == 0 && delivered == 0)
            {
                await Task.Delay(options.IdleDelay, cancellationToken);
            }
        }
    }
}
