namespace RappelRdv.Reminders.Security;

/// <summary>How a phone number is struck out of a free text that is kept (Twilio's error texts, event payloads) when its appointment is erased.</summary>
public static class ErasedText
{
    /// <summary>
    /// A phone number in a free text, as a PostgreSQL regular expression: 9 to 15 digits with spaces,
    /// dots or dashes between them, an optional '+'. Nothing else in an error text or an event is
    /// that long a number.
    /// </summary>
    public const string PhoneNumbersPattern = @"\+?\d([ .-]?\d){8,14}";

    public const string Replacement = "[erased]";
}
