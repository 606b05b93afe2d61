namespace RappelRdv.Reminders.Twilio;

public enum ProviderOutcome
{
    /// <summary>Twilio took the message: it has a SID.</summary>
    Accepted,

    /// <summary>Twilio refused it, with an error code: it was not sent.</summary>
    Rejected,

    /// <summary>Surely not acted on (rate limited, connection refused, circuit open): try again later.</summary>
    NotSent,

    /// <summary>Twilio may or may not have acted (timeout, 5xx, connection lost): reconcile before resending.</summary>
    Unknown,
}

public sealed record ProviderResult(ProviderOutcome Outcome, string? Sid = null, int? ErrorCode = null, string? Error = null)
{
    public static ProviderResult Accepted(string sid) => new(ProviderOutcome.Accepted, sid);
}

public enum LookupOutcome
{
    /// <summary>Twilio lists one or more that may be it (<see cref="Lookup.Candidates"/>): the caller decides.</summary>
    Found,

    /// <summary>Twilio's list does not show it.</summary>
    NotFound,

    /// <summary>The look-up itself failed (5xx, 429, timeout, circuit open): nothing is known.</summary>
    Failed,
}

/// <summary>
/// A look-up's answer. <see cref="Candidates"/>: every SID Twilio lists that matches the send; it is
/// this message's only when exactly one of them is held by no message (the Dispatcher checks).
/// </summary>
public sealed record Lookup(LookupOutcome Outcome, string? Sid = null, string? Error = null, IReadOnlyList<string>? Candidates = null);

/// <summary>
/// Twilio, or the simulated provider that stands in for it when no account is set. A send is given
/// <c>starting</c>: it runs once the request may leave (after the rate limiter), just before it does,
/// so that the caller can record that this message may now be at Twilio. The cancellation token stops
/// waiting for a permit; it never aborts a request already sent.
/// </summary>
public interface IMessageProvider
{
    Task<ProviderResult> SendSmsAsync(string to, string body, Uri statusCallback, Func<Task> starting, CancellationToken cancellationToken);

    Task<ProviderResult> StartCallAsync(string to, Uri twimlUrl, Uri statusCallback, Func<Task> starting, CancellationToken cancellationToken);

    /// <summary>
    /// The SMS Twilio has to this number that this send, started at <paramref name="startedAt"/>, may have
    /// created, whatever their status (queued ones included): with this body, or with an empty one (redacted).
    /// </summary>
    Task<Lookup> FindSmsAsync(string to, string body, DateTimeOffset startedAt, CancellationToken cancellationToken);

    /// <summary>The calls Twilio has to this number that this send, started at <paramref name="startedAt"/>, may have created.</summary>
    Task<Lookup> FindCallAsync(string to, DateTimeOffset startedAt, CancellationToken cancellationToken);
}
