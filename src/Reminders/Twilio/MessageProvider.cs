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

/// <summary>Twilio, or the simulated provider that stands in for it when no account is set.</summary>
public interface IMessageProvider
{
    Task<ProviderResult> SendSmsAsync(string to, string body, CancellationToken cancellationToken);

    Task<ProviderResult> StartCallAsync(string to, Uri twimlUrl, Uri statusCallback, CancellationToken cancellationToken);

    /// <summary>The SID of an SMS with this body sent to this number since then, if Twilio has one.</summary>
    Task<string?> FindSentSmsAsync(string to, string body, DateTimeOffset since, CancellationToken cancellationToken);
}
