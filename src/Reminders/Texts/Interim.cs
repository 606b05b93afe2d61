// INTERIM: replaced by the texts branch (Gsm7, FrenchDates, SmsTexts, VoiceTexts). Do not extend.
namespace RappelRdv.Reminders.Texts;

public sealed record MessageContext(string? Service, DateTimeOffset StartsAt, TimeZoneInfo Zone, string Mode, string? LocationName, string? LocationAddress, string? LocationPhone);

public static class Gsm7
{
    public static string Transliterate(string text) => text;

    public static int Segments(string text) => text.Length <= 160 ? 1 : (text.Length + 152) / 153;
}

public static class SmsTexts
{
    public static string For(string kind, MessageContext ctx) => $"{kind}: {ctx.Service} {ctx.StartsAt:O}";
}
