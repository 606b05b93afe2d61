using PhoneNumbers;

namespace RappelRdv.Reminders.Phones;

/// <summary>A phone number in E.164, with whether it can receive SMS.</summary>
public sealed record ParsedPhone(string E164, bool IsMobile)
{
    /// <summary>
    /// A line a person answers: a mobile, a geographic fixed line or a <c>09</c> line (libphonenumber's
    /// VOIP), metropolitan or overseas. Not a service number (<c>08</c>: free, shared-cost, premium
    /// rate): a leaked key must not make us call or text a paying number (contract §9.2).
    /// </summary>
    public bool IsCitizenLine { get; init; } = true;
}

/// <summary>Parses the notations French agendas use, metropolitan and overseas.</summary>
public static class FrenchPhone
{
    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();

    /// <summary>The regions whose numbers are taken: metropolitan France and the overseas ones.</summary>
    private static readonly HashSet<string> Accepted = ["GP", "MQ", "GF", "RE", "YT", "BL", "MF", "PM", "FR"];

    // A national number such as 0690… reads as a valid metropolitan mobile too, so the
    // overseas country codes are tried first: each only accepts its own prefixes. One region per
    // country code: a national number parses to the same number for every region that shares it
    // (+590 Guadeloupe, Saint-Barthélemy and Saint-Martin; +262 La Réunion and Mayotte), and the
    // number's own region is then read from it (GetRegionCodeForNumber).
    private static readonly string[] ParsedAs = ["GP", "MQ", "GF", "RE", "PM", "FR"];

    /// <summary>The country codes of <see cref="ParsedAs"/>, in the same order.</summary>
    private static readonly int[] CountryCodes = [.. ParsedAs.Select(Util.GetCountryCodeForRegion)];

    public static bool TryParse(string? input, out ParsedPhone phone)
    {
        phone = null!;
        if (string.IsNullOrWhiteSpace(input) || input.Length > 40)
        {
            return false;
        }

        var cleaned = new string([.. input.Where(c => char.IsDigit(c) || c == '+')]);
        if (cleaned.Length < 9 || cleaned.LastIndexOf('+') > 0 || input.Any(char.IsLetter))
        {
            return false;
        }

        // The notation agendas use most, a national number: 0 and nine digits, the first not 0. Every
        // French region strips the same national prefix (0), so parsing it for each region gives the nine
        // digits under that region's country code: the numbers are built directly, without parsing the
        // text six times (libphonenumber's parse was most of the phone's cost in a PUT, bench/intake.sh).
        if (cleaned.Length == 10 && cleaned[0] == '0' && cleaned[1] != '0' && ulong.TryParse(cleaned.AsSpan(1), out var national))
        {
            foreach (var countryCode in CountryCodes)
            {
                if (TryAccept(new PhoneNumber.Builder().SetCountryCode(countryCode).SetNationalNumber(national).Build(), out phone))
                {
                    return true;
                }
            }

            return false;
        }

        foreach (var region in ParsedAs)
        {
            PhoneNumber number;
            try
            {
                number = Util.Parse(cleaned, region);
            }
            catch (NumberParseException)
            {
                return false;
            }

            if (TryAccept(number, out phone))
            {
                return true;
            }

            // An international number is the same whatever region we parse it for.
            if (cleaned.StartsWith('+') || cleaned.StartsWith("00", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>The number, when it is a valid one of an accepted region: with its type, in E.164.</summary>
    private static bool TryAccept(PhoneNumber number, out ParsedPhone phone)
    {
        phone = null!;
        var region = Util.GetRegionCodeForNumber(number);
        if (region is null || !Accepted.Contains(region))
        {
            return false;
        }

        // A number of a known region is valid when its type is known: one look-up for both
        // (IsValidNumber reads the same type).
        var type = Util.GetNumberType(number);
        if (type is PhoneNumberType.UNKNOWN)
        {
            return false;
        }

        phone = new ParsedPhone(Util.Format(number, PhoneNumberFormat.E164), type is PhoneNumberType.MOBILE)
        {
            // By type, and by the national number's first digit as well: whatever the metadata's next
            // release calls an 08 number, it stays a service number.
            IsCitizenLine = type is PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE or PhoneNumberType.FIXED_LINE_OR_MOBILE or PhoneNumberType.VOIP
                && !Util.GetNationalSignificantNumber(number).StartsWith('8'),
        };
        return true;
    }

    /// <summary>A number that a citizen's appointment may carry: parsed, and a line a person answers.</summary>
    public static bool TryParseCitizen(string? input, out ParsedPhone phone) => TryParse(input, out phone) && phone.IsCitizenLine;

    /// <summary>Why <see cref="TryParseCitizen"/> refused this number, in the words of a 400's field error.</summary>
    public static string CitizenRefusal(string? input) =>
        TryParse(input, out _)
            ? "A service number (08: free, shared-cost or premium rate) is not a citizen's line: give a mobile, a fixed line or a 09 number."
            : "Not a phone number of metropolitan France or of an overseas department.";

    /// <summary>Masks a number for logs and screens: <c>+33 6•• •• •• 78</c> becomes <c>+336******78</c>.</summary>
    public static string Mask(string? e164)
    {
        if (string.IsNullOrEmpty(e164))
        {
            return "";
        }

        if (e164.Length <= 6)
        {
            return new string('*', e164.Length);
        }

        return string.Concat(e164.AsSpan(0, 4), new string('*', e164.Length - 6), e164.AsSpan(e164.Length - 2));
    }
}
