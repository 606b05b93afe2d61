using RappelRdv.Worker.Billing;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// What the minute's tick does once it has started the dispatch slices, each at its own pace: the
/// budgets' alerts for call minutes (every tick), the Twilio balance (every
/// <c>Billing__BalanceIntervalMinutes</c>, a real account only) and the erasure at Twilio of what
/// is due (every tick; each deletion has its own backoff). They were recurring jobs of their own;
/// Hangfire now has two, <c>dispatch</c> and the nightly retention.
/// <para>
/// Hangfire's scheduler enqueues a recurring job once per minute for all the Workers together, and a
/// starting Worker triggers one more tick: so each chore runs about once a minute in the cluster, not
/// once per Worker, and each is safe to run twice anyway (see each one).
/// </para>
/// <para>
/// Each chore is guarded: one that fails is logged and the next one runs; the slices were enqueued
/// before any of them, so none can hold dispatch back.
/// </para>
/// </summary>
internal sealed class Housekeeping(BillingJobs billing, TwilioErasure erasure, ILogger<Housekeeping> logger)
{
    public async Task RunAsync(CancellationToken stopping)
    {
        await GuardedAsync("watching the budgets", () => billing.WatchBudgetsAsync(stopping), stopping);
        await GuardedAsync("reading the Twilio balance", () => billing.ReadBalanceIfDueAsync(stopping), stopping);
        await GuardedAsync("erasing at Twilio", () => erasure.EraseDueAsync(stopping), stopping);
    }

    private async Task GuardedAsync(string chore, Func<Task> run, CancellationToken stopping)
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await run();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping: the next tick, on whichever Worker, does it.
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "The tick's housekeeping failed {Chore}; the next tick tries again", chore);
        }
    }
}
