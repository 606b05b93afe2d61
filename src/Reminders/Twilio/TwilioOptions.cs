using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Reminders.Twilio;

/// <summary>The <c>Twilio__*</c> settings. Without an account the simulated provider is used.</summary>
public sealed class TwilioOptions : IValidatableObject
{
    public const string Section = "Twilio";

    public string? AccountSid { get; set; }

    public string? AuthToken { get; set; }

    public string ApiBaseUrl { get; set; } = "https://api.twilio.com";

    public string? MessagingServiceSid { get; set; }

    public string? FromNumber { get; set; }

    public string? VoiceFromNumber { get; set; }

    /// <summary>
    /// The account's rate of REST calls, shared by every Worker on the database (contract §9.8): not per
    /// process. Sends, calls and look-ups all count.
    /// </summary>
    [Range(1, 10_000, ErrorMessage = "Twilio__MaxRequestsPerSecond must be between 1 and 10000.")]
    public int MaxRequestsPerSecond { get; set; } = 50;

    /// <summary>
    /// The account's rate of calls placed (Twilio's "calls per second", 1 unless the account was granted
    /// more), shared by every Worker; a call also counts in <see cref="MaxRequestsPerSecond"/>.
    /// </summary>
    [Range(1, 1_000, ErrorMessage = "Twilio__MaxCallsPerSecond must be between 1 and 1000.")]
    public int MaxCallsPerSecond { get; set; } = 1;

    /// <summary>
    /// How long a REST call may take before its outcome is unknown. Twilio answers a create in well
    /// under a second; a send whose answer does not come holds its dispatch slot (and its database
    /// connection) this long, so under a share of timeouts the slots, not the rate cap, set the pace
    /// (docs/ARCHITECTURE.md, "Rate, breaker and failures"). 5 s: ten times a slow answer, a third of
    /// the 15 s it was.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long Twilio may hold an SMS queued before dropping it (its <c>ValidityPeriod</c>). A message
    /// whose answer was lost and that Twilio does not list is sent again only once this has passed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "10:00:00", ErrorMessage = "Twilio__ValidityPeriod must be between 00:01:00 and 10:00:00.")]
    public TimeSpan ValidityPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Base delay of the retries on 429 and refused connections (exponential, with jitter).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the circuit stays open once Twilio keeps failing.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many calls in 30 s before the breaker judges the failure ratio (half of them).</summary>
    public int BreakerMinimumThroughput { get; set; } = 10;

    public bool IsSimulated => string.IsNullOrEmpty(AccountSid);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(ApiBaseUrl, UriKind.Absolute, out _))
        {
            yield return new ValidationResult("Twilio__ApiBaseUrl must be an absolute URL, such as https://api.twilio.com", [nameof(ApiBaseUrl)]);
        }

        if (IsSimulated)
        {
            yield break;
        }

        if (string.IsNullOrEmpty(AuthToken))
        {
            yield return new ValidationResult("Twilio__AuthToken is required with Twilio__AccountSid.", [nameof(AuthToken)]);
        }

        if (string.IsNullOrEmpty(MessagingServiceSid) && string.IsNullOrEmpty(FromNumber))
        {
            yield return new ValidationResult(
                "Twilio__MessagingServiceSid or Twilio__FromNumber is required with Twilio__AccountSid.", [nameof(FromNumber)]);
        }
    }
}
