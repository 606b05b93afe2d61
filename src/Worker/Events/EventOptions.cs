using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Worker.Events;

/// <summary>
/// <c>Events__*</c>: how the Worker's event loop delivers to agendas (docs/OPERATIONS.md). Validated at
/// start: an attempt may never take more than 30 s (the contract's §9.7), nor hold more senders than there are.
/// </summary>
internal sealed class EventOptions : IValidatableObject
{
    public const string Section = "Events";

    public static readonly TimeSpan MaxAttemptTimeout = TimeSpan.FromSeconds(30);

    /// <summary>One deadline per attempt: connection, headers and body together.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts in flight at once in a Worker, all tenants together.</summary>
    [Range(1, 256)]
    public int Senders { get; set; } = 8;

    /// <summary>Attempts in flight at once in a Worker for one tenant: what a slow endpoint can hold.</summary>
    [Range(1, 256)]
    public int PerTenant { get; set; } = 2;

    /// <summary>Pause of the loop when nothing is due.</summary>
    public TimeSpan IdleDelay { get; set; } = TimeSpan.FromSeconds(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (AttemptTimeout <= TimeSpan.Zero || AttemptTimeout > MaxAttemptTimeout)
        {
            yield return new ValidationResult("Events__AttemptTimeout must be more than 0 and at most 00:00:30.", [nameof(AttemptTimeout)]);
        }

        if (PerTenant > Senders)
        {
            yield return new ValidationResult("Events__PerTenant must not be more than Events__Senders.", [nameof(PerTenant)]);
        }

        if (IdleDelay <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Events__IdleDelay must be a positive duration.", [nameof(IdleDelay)]);
        }
    }
}
