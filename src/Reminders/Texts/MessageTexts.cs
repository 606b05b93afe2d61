using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Reminders.Texts;

/// <summary>
/// What a message says about one appointment. <see cref="Mode"/> is one of <see cref="Modes"/>;
/// <see cref="Language"/> one of <see cref="Languages.Codes"/>; <see cref="Templates"/> are the
/// tenant's own SMS templates of that language (and of the appointment's variant), by kind.
/// </summary>
public sealed record MessageContext(
    string? Service,
    DateTimeOffset StartsAt,
    TimeZoneInfo Zone,
    string Mode,
    string? LocationName,
    string? LocationAddress,
    string? LocationPhone,
    string Language = Languages.French,
    IReadOnlyDictionary<string, string>? Templates = null)
{
    /// <summary>
    /// The one way from an appointment read with its tenant's settings to what its messages say: the
    /// tenant's zone, and its templates of the citizen's language and the appointment's variant.
    /// </summary>
    public static MessageContext Of(
        TenantSettings settings, string? service, DateTimeOffset startsAt, string mode, string? locationName, string? locationAddress,
        string? locationPhone, string language, string? variant) =>
        new(service, startsAt, settings.Zone, mode, locationName, locationAddress, locationPhone, language,
            settings.Texts?.TemplatesFor(language, variant));
}

/// <summary>
/// The SMS a citizen receives, in their language. Latin-script languages are always GSM-7 (one
/// character outside it would make the SMS UCS-2 and triple its cost): a reminder fits one
/// segment whenever the place, shortened the way envelopes are, allows it, and two at most.
/// Arabic is UCS-2, 70 characters a segment: at most three.
/// </summary>
public static class SmsTexts
{
    /// <summary>Segments an appointment's SMS may take in a Latin-script language.</summary>
    public const int MaxSegments = 2;

    /// <summary>Segments an appointment's SMS may take in Arabic (UCS-2).</summary>
    public const int MaxUcs2Segments = 3;

    public static readonly string[] Kinds =
        [MessageKinds.Reminder, MessageKinds.Confirmation, MessageKinds.Change, MessageKinds.Cancellation];

    /// <summary>The message of a kind of <see cref="MessageKinds"/>: reminder, confirmation, change or cancellation.</summary>
    public static string For(string kind, MessageContext ctx)
    {
        var texts = BuiltInTexts.For(ctx.Language);
        if (!texts.Sms.TryGetValue(kind, out var builtIn))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "No SMS text for this kind of message.");
        }

        // A tenant's template replaces both wordings; a missing one falls back to the built-in text.
        string[] templates = ctx.Templates?.GetValueOrDefault(kind) is { Length: > 0 } own ? [own] : builtIn;
        var latin = texts.Language.LatinScript;
        var (preferred, most) = latin ? (1, MaxSegments) : (MaxSegments, MaxUcs2Segments);

        var full = new Parts(
            PlaceShortening.Clean(ctx.Service),
            PlaceShortening.Clean(ctx.LocationName),
            PlaceShortening.Clean(ctx.LocationAddress),
            KeepsPlace: true);
        var phone = LocationPhone.Written(ctx.LocationPhone);
        var common = DayAndTime(ctx, texts)
            .Add("callback", phone is null ? texts.ContactService : texts.CallBack.Replace("{phone}", phone, StringComparison.Ordinal));

        // First the fewest segments that still say where (name and town at least); then, if the
        // place is too long for that, the full text in more segments, shortened only as needed.
        // Lazily: most texts fit before any abbreviation is even computed.
        foreach (var parts in Shortenings(full).TakeWhile(p => p.KeepsPlace))
        {
            foreach (var template in templates)
            {
                var text = Compose(template, parts, ctx.Mode, common, texts);
                if (Gsm7.Segments(text) <= preferred)
                {
                    return text;
                }
            }
        }

        var last = "";
        foreach (var parts in Shortenings(full))
        {
            foreach (var template in templates)
            {
                last = Compose(template, parts, ctx.Mode, common, texts);
                if (Gsm7.Segments(last) <= most)
                {
                    return last;
                }
            }
        }

        // The last shortening keeps only the date, the time and the answer instructions (or the
        // phone to call): built-in texts and validated templates fit there, so this is not reached.
        return last;
    }

    public static string Confirmed(MessageContext ctx) => Acknowledgment(ctx, t => t.Confirmed);

    public static string Cancelled(MessageContext ctx) => Acknowledgment(ctx, t => t.Cancelled);

    public static string RescheduleRequested(MessageContext ctx) => Acknowledgment(ctx, t => t.RescheduleRequested);

    /// <summary>The answer to a reply that comes once the appointment has started.</summary>
    public static string TooLate(MessageContext ctx)
    {
        var texts = BuiltInTexts.For(ctx.Language);
        var phone = LocationPhone.Written(ctx.LocationPhone);
        var values = DayAndTime(ctx, texts);
        return FirstThatFits(texts,
            phone is null ? null : TextTemplates.Fill(texts.TooLate[0], values.Add("phone", phone), false),
            TextTemplates.Fill(texts.TooLate[1], values, false));
    }

    public static string OptedOut(string? language = null) => FirstThatFits(BuiltInTexts.For(language), BuiltInTexts.For(language).OptedOut);

    public static string OptedIn(string? language = null) => FirstThatFits(BuiltInTexts.For(language), BuiltInTexts.For(language).OptedIn);

    public static string Help(string? language = null) => FirstThatFits(BuiltInTexts.For(language), BuiltInTexts.For(language).Help);

    /// <summary>The place as {place} says it: the mode's words, or the name and address.</summary>
    internal static string Place(string mode, string? name, string? address, LanguageTexts texts)
    {
        // "CMS St-Denis, St-Denis": an address shortened to its town may repeat the name.
        var shownAddress = name is not null && address is not null && name.Contains(address, StringComparison.OrdinalIgnoreCase)
            ? null
            : address;
        return mode switch
        {
            Modes.Phone => texts.PhonePlace,
            Modes.Home => texts.HomePlace,
            _ => string.Join(", ", new[] { name, shownAddress }.OfType<string>()),
        };
    }

    private sealed record Parts(string? Service, string? Name, string? Address, bool KeepsPlace);

    /// <summary>
    /// From the full text to the shortest. What loses nothing comes first (postal
    /// abbreviations, the acronyms on the place's door), then the address shrinks to its town
    /// (the place is still said), then goes, then the place's name, then the service's last
    /// words. The date, the time and how to answer always stay.
    /// </summary>
    private static IEnumerable<Parts> Shortenings(Parts full)
    {
        yield return full;

        var shorter = full with
        {
            Address = full.Address is null ? null : PlaceShortening.AbbreviateAddress(full.Address),
        };
        yield return shorter;

        shorter = shorter with { Name = full.Name is null ? null : PlaceShortening.AbbreviateName(full.Name) };
        yield return shorter;

        foreach (var address in shorter.Address is null ? [] : PlaceShortening.ShorterAddresses(shorter.Address))
        {
            yield return shorter with { Address = address };
        }

        shorter = shorter with { Address = null, KeepsPlace = false };
        yield return shorter;

        shorter = shorter with { Name = null };
        yield return shorter;

        foreach (var service in full.Service is null ? [] : PlaceShortening.ShorterServices(full.Service))
        {
            yield return shorter with { Service = service };
        }

        yield return shorter with { Service = null };
    }

    private static string Compose(string template, Parts p, string mode, TemplateValues common, LanguageTexts texts) =>
        TextTemplates.Fill(
            template,
            common.Add("service", p.Service).Add("place", Place(mode, p.Name, p.Address, texts)),
            texts.Language.LatinScript);

    private static TemplateValues DayAndTime(MessageContext ctx, LanguageTexts texts) => new TemplateValues()
        .Add("day", LocalDates.Day(texts.Language.Code, ctx.StartsAt, ctx.Zone))
        .Add("time", LocalDates.Time(texts.Language.Code, ctx.StartsAt, ctx.Zone));

    private static string Acknowledgment(MessageContext ctx, Func<LanguageTexts, string> pick)
    {
        var texts = BuiltInTexts.For(ctx.Language);
        var values = DayAndTime(ctx, texts);
        return FirstThatFits(texts,
            TextTemplates.Fill(pick(texts), values.Add("subject", texts.Subject(ctx.Mode, PlaceShortening.Clean(ctx.Service))), false),
            TextTemplates.Fill(pick(texts), values.Add("subject", texts.Subject(ctx.Mode, null)), false));
    }

    /// <summary>
    /// The first text that fits one segment (two in UCS-2 Arabic, whose segment holds 70
    /// characters) once in GSM-7; the last is written to always fit.
    /// </summary>
    private static string FirstThatFits(LanguageTexts texts, params string?[] candidates)
    {
        var limit = texts.Language.LatinScript ? 1 : 2;
        var text = "";
        foreach (var candidate in candidates.OfType<string>())
        {
            text = texts.Language.LatinScript ? Gsm7.Transliterate(candidate) : candidate;
            if (Gsm7.Segments(text) <= limit)
            {
                break;
            }
        }

        return text;
    }
}

/// <summary>
/// What a reminder call says, in the citizen's language, for Twilio's &lt;Say&gt; with the voice of
/// <see cref="Language.SayVoice"/>. Nothing personal beyond the day, the hour, the place and the
/// service: whoever picks up may not be the citizen. French times are spelled for speech
/// ("9 heures 30"), phone numbers are read in pairs.
/// </summary>
public static class VoiceTexts
{
    public static string Greeting(string? language = null) => BuiltInTexts.For(language).Greeting;

    public static string Announcement(string kind, MessageContext ctx)
    {
        var texts = BuiltInTexts.For(ctx.Language);
        if (!texts.Announcement.TryGetValue(kind, out var template))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "No voice text for this kind of message.");
        }

        var phone = SpokenPhone(ctx.LocationPhone, texts);
        var place = ctx.Mode switch
        {
            Modes.Phone => "",
            Modes.Home => texts.VoiceHome,
            _ => string.Join(", ", new[] { PlaceShortening.Clean(ctx.LocationName), PlaceShortening.Clean(ctx.LocationAddress) }.OfType<string>())
                is { Length: > 0 } where ? texts.VoiceAddress.Replace("{name}", where, StringComparison.Ordinal) : "",
        };
        var values = SpokenDayAndTime(ctx, texts)
            .Add("subject", texts.Subject(ctx.Mode, PlaceShortening.Clean(ctx.Service)))
            .Add("place", place)
            .Add("callback", phone is null ? texts.VoiceContactService : texts.VoiceCallBack.Replace("{phone}", phone, StringComparison.Ordinal));
        return TextTemplates.Fill(template, values, latin: false, tidy: false);
    }

    public static string Menu(string? language = null) => BuiltInTexts.For(language).Menu;

    /// <summary>What the caller hears after pressing 1, 2 or 3.</summary>
    public static string Acknowledgment(ReplyIntent intent, string? language = null) => intent switch
    {
        ReplyIntent.Confirm => BuiltInTexts.For(language).KeyConfirmed,
        ReplyIntent.Cancel => BuiltInTexts.For(language).KeyCancelled,
        ReplyIntent.Reschedule => BuiltInTexts.For(language).KeyRescheduled,
        _ => throw new ArgumentOutOfRangeException(nameof(intent), intent, "Only confirm, cancel and reschedule are acknowledged on a call."),
    };

    public static string Goodbye(string? language = null) => BuiltInTexts.For(language).Goodbye;

    /// <summary>
    /// Left on an answering machine, which anyone in the household may play: the day, the
    /// hour and the place, never the citizen's name nor the service (which may say more
    /// about them than they would like: child welfare, RSA).
    /// </summary>
    public static string AnsweringMachine(MessageContext ctx)
    {
        var texts = BuiltInTexts.For(ctx.Language);
        var name = ctx.Mode == Modes.InPerson && PlaceShortening.Clean(ctx.LocationName) is { } place
            ? (texts.Language.LatinScript ? ", " : "، ") + place
            : "";
        var call = SpokenPhone(ctx.LocationPhone, texts) is { } phone
            ? texts.AnsweringMachineCall.Replace("{phone}", phone, StringComparison.Ordinal)
            : texts.AnsweringMachineNoPhone;
        return TextTemplates.Fill(texts.AnsweringMachine, SpokenDayAndTime(ctx, texts).Add("name", name).Add("call", call), latin: false, tidy: false);
    }

    public static string NotUnderstood(string? language = null) => BuiltInTexts.For(language).NotUnderstood;

    public static string UnknownCall(string? language = null) => BuiltInTexts.For(language).UnknownCall;

    private static TemplateValues SpokenDayAndTime(MessageContext ctx, LanguageTexts texts) => new TemplateValues()
        .Add("day", LocalDates.Day(texts.Language.Code, ctx.StartsAt, ctx.Zone))
        .Add("time", LocalDates.SpokenTime(texts.Language.Code, ctx.StartsAt, ctx.Zone));

    private static string? SpokenPhone(string? phone, LanguageTexts texts) =>
        texts.Language.Code == Languages.French ? LocationPhone.Spoken(phone) : LocationPhone.SpokenDigits(phone);
}
