using Hangfire;

namespace RappelRdv.Worker.Dispatch;

/// <summary>
/// The Hangfire side of dispatch: the recurring tick each minute, which does the
/// <see cref="Housekeeping"/> (budgets, balance, erasure at Twilio). Sending itself runs in each
/// Worker's own <see cref="DispatchLoop"/>, not in Hangfire jobs: Hangfire gave a minute's slices to
/// whichever process fetched first, nearly always the one that ran the tick (docs/ARCHITECTURE.md).
/// <see cref="RunSlice"/> stays for the slices that Workers of the previous version enqueue during a
/// rolling deploy. See docs/ARCHITECTURE.md and docs/RELIABILITY.md.
/// </summary>
internal sealed class DispatchJobs(Housekeeping housekeeping, DispatchLoop loop, IHostApplicationLifetime? host = null)
{
    public const string TickJobId = "dispatch";

    // A tick or a slice that fails is deleted, not kept in Hangfire's Failed list: the next tick starts
    // fresh within the minute, and the error is in the Worker's log.
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    // No CancellationToken parameter: Hangfire finds a job by its method's name and parameter types,
    // and Workers of the previous version, which run beside these during a rolling deploy, know Tick().
    // The host's stopping token serves instead (none in the tests, which build no host).
    public Task Tick() => housekeeping.RunAsync(host?.ApplicationStopping ?? CancellationToken.None);

    /// <summary>
    /// A slice enqueued by a Worker of the previous version (rolling deploy): sends until
    /// <paramref name="until"/> or the stop, as the Worker's own loop does.
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Delete)]
    public Task RunSlice(DateTime until, CancellationToken stopping) => loop.RunAsync(until, stopping);
}
