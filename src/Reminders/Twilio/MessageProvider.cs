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
    /// <summary>Twilio has it: its SID is known.</summary>
    Found,

    /// <summary>Twilio's list does not show it.</summary>
    NotFound,

    /// <summary>The look-up itself failed (5xx, 429, timeout, circuit open): nothing is known.</summary>
    Failed,
}

public sealed record Lookup(LookupOutcome Outcome, string? Sid = null, string? Error = null);

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

    /// <summary>Whether Twilio has an SMS with this body to this number, whatever its status (queued ones included).</summary>
    Task<Lookup> FindSmsAsync(string to, string body, CancellationToken cancellationToken);

    /// <summary>Whether Twilio has a call to this number created since then, whatever its status.</summary>
    Task<Lookup> FindCallAsync(string to, DateTimeOffset since, CancellationToken cancellationToken);
}
