using System.Globalization;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Texts;

// The call as the Api's TwiML speaks it, in the citizen's language: greeting, announcement, menu,
// then the answer to key 1. With "--voice", prints the espeak-ng voice of that language instead.
//   RappelRdv.VoicePreview [kind] [service] [place] [startsAt] [language] [--voice]
if (args.Contains("--voice"))
{
    Console.WriteLine(Languages.Of(Languages.Supported(args.Where(a => a != "--voice").ElementAtOrDefault(4)) ?? "fr").EspeakVoice);
    return 0;
}

var language = Languages.Supported(args.ElementAtOrDefault(4) ?? "fr");
if (language is null)
{
    Console.Error.WriteLine($"Unsupported language '{args[4]}': {string.Join(", ", Languages.Codes)}.");
    return 2;
}

var kind = args.ElementAtOrDefault(0) ?? "reminder";
var context = new MessageContext(
    Service: args.ElementAtOrDefault(1) ?? "RSA",
    StartsAt: DateTimeOffset.Parse(args.ElementAtOrDefault(3) ?? "2026-12-03T09:30:00+01:00", CultureInfo.InvariantCulture),
    Zone: TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"),
    Mode: "in_person",
    LocationName: args.ElementAtOrDefault(2) ?? "UTS Toulon Ouest",
    LocationAddress: "12 rue Picot, 83000 Toulon",
    LocationPhone: "04 94 00 00 00",
    Language: language);

Console.WriteLine(string.Join(" ", VoiceTexts.Greeting(language), VoiceTexts.Announcement(kind, context), VoiceTexts.Menu(language),
    VoiceTexts.Acknowledgment(ReplyIntent.Confirm, language), VoiceTexts.Goodbye(language)));
return 0;
