using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Reminders.Budgets;

/// <summary>
/// The <c>Billing__*</c> settings, all optional. Prices are configured rather than taken from
/// Twilio's <c>price</c> field (docs/OPERATIONS.md, "Usage and budgets" says why).
/// </summary>
public sealed class BillingOptions : IValidatableObject
{
    public const string Section = "Billing";

    /// <summary>The price of one SMS segment; without it usage shows no SMS amount.</summary>
    public decimal? SmsSegmentPrice { get; set; }

    /// <summary>The price of one billed call minute.</summary>
    public decimal? CallMinutePrice { get; set; }

    public string Currency { get; set; } = "EUR";

    /// <summary>Under this Twilio balance the Worker warns, and the operator's view says so.</summary>
    public decimal? BalanceFloor { get; set; }

    /// <summary>How often the Worker reads the Twilio balance (a real account only).</summary>
    [Range(1, 60, ErrorMessage = "Billing__BalanceIntervalMinutes must be between 1 and 60.")]
    public int BalanceIntervalMinutes { get; set; } = 5;

    public bool HasPrices => SmsSegmentPrice is not null || CallMinutePrice is not null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SmsSegmentPrice is < 0)
        {
            yield return new ValidationResult("Billing__SmsSegmentPrice must not be negative.", [nameof(SmsSegmentPrice)]);
        }

        if (CallMinutePrice is < 0)
        {
            yield return new ValidationResult("Billing__CallMinutePrice must not be negative.", [nameof(CallMinutePrice)]);
        }

        if (Currency is not { Length: 3 } || !Currency.All(char.IsAsciiLetterUpper))
        {
            yield return new ValidationResult("Billing__Currency must be an ISO 4217 code in capitals, such as EUR.", [nameof(Currency)]);
        }
    }
}
