using PhoneNumbers;
using RappelRdv.Reminders.Phones;

namespace RappelRdv.Reminders.Tests;

public sealed class FrenchPhoneTests
{
    [Theory]
    [InlineData("06 12 34 56 78", "+33612345678", true)]
    [InlineData("0612345678", "+33612345678", true)]
    [InlineData("06.12.34.56.78", "+33612345678", true)]
    [InlineData("06-12-34-56-78", "+33612345678", true)]
    [InlineData("+33 6 12 34 56 78", "+33612345678", true)]
    [InlineData("+33612345678", "+33612345678", true)]
    [InlineData("0033 6 12 34 56 78", "+33612345678", true)]
    [InlineData("+33 (0)6 12 34 56 78", "+33612345678", true)]
    [InlineData("07 81 23 45 67", "+33781234567", true)]
    [InlineData(" 06 12 34 56 78 ", "+33612345678", true)]
    [InlineData("04 94 00 00 00", "+33494000000", false)]
    [InlineData("01 44 55 66 77", "+33144556677", false)]
    [InlineData("09 72 12 34 56", "+33972123456", false)]
    [InlineData("0690 12 34 56", "+590690123456", true)]      // Guadeloupe
    [InlineData("0691 28 12 34", "+590691281234", true)]      // Guadeloupe
    [InlineData("0590 81 23 45", "+590590812345", false)]     // Guadeloupe, landline
    [InlineData("0694 20 12 34", "+594694201234", true)]      // Guyane
    [InlineData("0696 12 34 56", "+596696123456", true)]      // Martinique
    [InlineData("0697 12 34 56", "+596697123456", true)]      // Martinique
    [InlineData("0692 12 34 56", "+262692123456", true)]      // La Réunion
    [InlineData("0693 12 34 56", "+262693123456", true)]      // La Réunion
    [InlineData("0262 21 34 56", "+262262213456", false)]     // La Réunion, landline
    [InlineData("0639 01 23 45", "+262639012345", true)]      // Mayotte
    [InlineData("+590 690 12 34 56", "+590690123456", true)]
    [InlineData("+262 692 12 34 56", "+262692123456", true)]
    [InlineData("00262639012345", "+262639012345", true)]
    public void Parses_the_notations_agendas_use(string input, string e164, bool mobile)
    {
        Assert.True(FrenchPhone.TryParse(input, out var phone), input);
        Assert.Equal(e164, phone.E164);
        Assert.Equal(mobile, phone.IsMobile);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("12345")]
    [InlineData("06 12 34 56 7")]
    [InlineData("06 12 34 56 78 9")]
    [InlineData("+1 202 555 0143")]
    [InlineData("+44 7700 900123")]
    [InlineData("appelez-moi")]
    [InlineData("06 12 34 56 78 poste 12")]
    [InlineData("+33 6 12 34 56 78 +33")]
    [InlineData("00 00 00 00 00")]
    public void Refuses_what_is_not_a_French_phone(string input)
    {
        Assert.False(FrenchPhone.TryParse(input, out _), input);
    }

    [Fact]
    public void Masks_all_but_the_country_code_and_the_last_two_digits()
    {
        Assert.Equal("+336******78", FrenchPhone.Mask("+33612345678"));
        Assert.Equal("+590*******56", FrenchPhone.Mask("+590690123456"));
        Assert.Equal("", FrenchPhone.Mask(null));
    }

    [Theory]
    [InlineData("06 12 34 56 78")]
    [InlineData("07 81 23 45 67")]
    [InlineData("01 44 55 66 77")]      // geographic fixed lines, all five zones
    [InlineData("02 40 12 34 56")]
    [InlineData("03 20 12 34 56")]
    [InlineData("04 94 00 00 00")]
    [InlineData("05 56 12 34 56")]
    [InlineData("09 72 12 34 56")]      // a 09 line (a box's telephone)
    [InlineData("0690 12 34 56")]       // Guadeloupe, mobiles
    [InlineData("0691 28 12 34")]
    [InlineData("0694 20 12 34")]       // Guyane
    [InlineData("0696 12 34 56")]       // Martinique
    [InlineData("0697 12 34 56")]
    [InlineData("0692 12 34 56")]       // La Réunion
    [InlineData("0693 12 34 56")]
    [InlineData("0639 01 23 45")]       // Mayotte
    [InlineData("0590 81 23 45")]       // overseas fixed lines
    [InlineData("0594 29 12 34")]
    [InlineData("0596 61 12 34")]
    [InlineData("0262 21 34 56")]
    [InlineData("0269 61 12 34")]
    public void Takes_the_lines_a_person_answers(string input)
    {
        Assert.True(FrenchPhone.TryParseCitizen(input, out var phone), input);
        Assert.True(phone.IsCitizenLine);
    }

    [Theory]
    [InlineData("08 00 12 34 56")]      // free
    [InlineData("0805 12 34 56")]
    [InlineData("08 10 12 34 56")]      // shared cost
    [InlineData("08 20 12 34 56")]
    [InlineData("08 25 12 34 56")]
    [InlineData("08 90 12 34 56")]      // premium rate
    [InlineData("08 99 12 34 56")]
    [InlineData("+33 8 99 12 34 56")]
    [InlineData("0033 810 12 34 56")]
    public void Refuses_service_numbers_though_they_are_French(string input)
    {
        Assert.False(FrenchPhone.TryParseCitizen(input, out _), input);
        Assert.StartsWith("A service number", FrenchPhone.CitizenRefusal(input), StringComparison.Ordinal);
    }

    /// <summary>
    /// FrenchPhone parses a national number once per country code, not once per region. Against the way
    /// it did before (every region in turn, the overseas ones first), on every national prefix from 01 to 09
    /// followed by two digits (so every overseas block), written the ways agendas write them, national and
    /// international: the same answer for each.
    /// </summary>
    [Fact]
    public void Parsing_once_per_country_code_answers_as_every_region_in_turn_did()
    {
        var random = new Random(28);
        var compared = 0;
        for (var prefix = 100; prefix <= 999; prefix++)
        {
            for (var i = 0; i < 4; i++)
            {
                var rest = random.Next(1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
                var national = $"0{prefix}{rest}";
                foreach (var input in new[]
                {
                    national, $"{national[..2]} {national[2..4]} {national[4..6]} {national[6..8]} {national[8..]}", national[1..],
                    national[..^1], $"+33{national[1..]}", $"0033{national[1..]}", $"33{national[1..]}",
                    $"+590{national[1..]}", $"+262{national[1..]}", $"262{national[1..]}", $"590{national[1..]}",
                })
                {
                    var expected = EveryRegionInTurn(input);
                    Assert.Equal(expected is not null, FrenchPhone.TryParse(input, out var phone));
                    if (expected is not null)
                    {
                        Assert.Equal(expected, phone);
                    }

                    compared++;
                }
            }
        }

        Assert.Equal(900 * 4 * 11, compared);
    }

    /// <summary>
    /// A national number (0 and nine digits) is not parsed as text but built under each country code in
    /// turn: the same answer as parsing it region by region, on numbers drawn from every block.
    /// </summary>
    [Fact]
    public void A_national_number_built_without_parsing_answers_as_every_region_in_turn_did()
    {
        var random = new Random(2812);
        for (var i = 0; i < 20_000; i++)
        {
            var input = "0" + random.NextInt64(100_000_000, 1_000_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var expected = EveryRegionInTurn(input);
            Assert.Equal(expected is not null, FrenchPhone.TryParse(input, out var phone));
            if (expected is not null)
            {
                Assert.Equal(expected, phone);
            }
        }
    }

    /// <summary>FrenchPhone.TryParse as it was until 2026-12-07: the nine regions one after the other.</summary>
    private static ParsedPhone? EveryRegionInTurn(string input)
    {
        var util = PhoneNumberUtil.GetInstance();
        string[] regions = ["GP", "MQ", "GF", "RE", "YT", "BL", "MF", "PM", "FR"];
        var cleaned = new string([.. input.Where(c => char.IsDigit(c) || c == '+')]);
        if (cleaned.Length < 9 || cleaned.LastIndexOf('+') > 0 || input.Any(char.IsLetter))
        {
            return null;
        }

        foreach (var region in regions)
        {
            PhoneNumber number;
            try
            {
                number = util.Parse(cleaned, region);
            }
            catch (NumberParseException)
            {
                return null;
            }

            var actualRegion = util.GetRegionCodeForNumber(number);
            if (actualRegion is null || !regions.Contains(actualRegion) || !util.IsValidNumber(number))
            {
                if (cleaned.StartsWith('+') || cleaned.StartsWith("00", StringComparison.Ordinal))
                {
                    return null;
                }

                continue;
            }

            var type = util.GetNumberType(number);
            return new ParsedPhone(util.Format(number, PhoneNumberFormat.E164), type is PhoneNumberType.MOBILE)
            {
                IsCitizenLine = type is PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE or PhoneNumberType.FIXED_LINE_OR_MOBILE or PhoneNumberType.VOIP
                    && !util.GetNationalSignificantNumber(number).StartsWith('8'),
            };
        }

        return null;
    }
}
