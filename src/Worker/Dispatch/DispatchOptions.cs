using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Worker.Dispatch;

/// <summary>The <c>Dispatch__*</c> settings, bound and validated at start (WorkerSetup).</summary>
internal sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    /// <summary>Most rows one claim takes (never more than the free send slots).</summary>
    [Range(1, 1_000, ErrorMessage = "Dispatch__BatchSize must be between 1 and 1000.")]
    public int BatchSize { get; set; } = 64;

    /// <summary>
    /// Sends in flight per dispatch loop (each waiting on Twilio), never more than one second of the account's
    /// rate (<c>Twilio__MaxRequestsPerSecond</c>): more would only wait for the rate's tokens holding their row
    /// locks. They share the loop's <see cref="Groups"/> connections: the sends of one claim go in one
    /// transaction (Dispatcher.SendGroupAsync).
    /// </summary>
    [Range(1, 1_000, ErrorMessage = "Dispatch__Parallelism must be between 1 and 1000.")]
    public int Parallelism { get; set; } = 128;

    /// <summary>
    /// Groups of sends in flight per dispatch loop: each holds one database connection and one transaction
    /// (its messages' and appointments' locks) until its last answer is committed. A claim is one group, and
    /// a claim waits for a free group as for free send slots.
    /// </summary>
    [Range(1, 100, ErrorMessage = "Dispatch__Groups must be between 1 and 100.")]
    public int Groups { get; set; } = 8;

    /// <summary>
    /// Dispatch loops each Worker runs for its whole life (<see cref="DispatchLoop"/>), each with
    /// <see cref="Parallelism"/> send slots. (Until issue 28: loops handed out each minute by Hangfire
    /// for the whole cluster, which crowded them onto one Worker.)
    /// </summary>
    [Range(1, 64, ErrorMessage = "Dispatch__Slices must be between 1 and 64.")]
    public int Slices { get; set; } = 1;

    public TimeSpan IdleDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan RetryAfterNotSent { get; set; } = TimeSpan.FromMinutes(1);

    public TimeSpan RetryAfterBrokenCircuit { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a claim may stay <c>sending</c> before it is reconciled with Twilio.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often a dispatch loop looks for claims left behind by a crash.</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Send slots of this Worker: what its pools must hold beside the rest (WorkerConnections).</summary>
    public int SendSlots => Slices * Parallelism;
}
