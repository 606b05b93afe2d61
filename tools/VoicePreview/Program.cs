using System.Globalization;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Texts;

// The call as the Api's TwiML speaks it: greeting, announcement, menu, then the answer to key 1.
var kind = args.ElementAtOrDefault(0) ?? "reminder";
var context = new MessageContext(
    Service: args.ElementAtOrDefault(1) ?? "RSA",
    StartsAt: DateTimeOffset.Parse(args.ElementAtOrDefault(3) ?? "2026-12-03T09:30:00+01:00", CultureInfo.InvariantCulture),
    Zone: TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris"),
    Mode: "in_person",
    LocationName: args.ElementAtOrDefault(2) ?? "UTS Toulon Ouest",
    LocationAddress: "12 rue Picot, 83000 Toulon",
    LocationPhone: "04 94 00 00 00");

Console.WriteLine(string.Join(" ", VoiceTexts.Greeting(), VoiceTexts.Announcement(kind, context), VoiceTexts.Menu(),
    VoiceTexts.Acknowledgment(ReplyIntent.Confirm), VoiceTexts.Goodbye()));
