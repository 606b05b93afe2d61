using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Replies;

namespace RappelRdv.Reminders.Texts;

/// <summary>What a message says about one appointment. <see cref="Mode"/> is one of <see cref="Modes"/>.</summary>
public sealed record MessageContext(
    string? Service,
    DateTimeOffset StartsAt,
    TimeZoneInfo Zone,
    string Mode,
    string? LocationName,
    string? LocationAddress,
    string? LocationPhone);

/// <summary>
/// The SMS a citizen receives. Always GSM-7 (one character outside it would make the SMS
/// UCS-2 and triple its cost); messages about an appointment fit two segments, answers to
/// a reply fit one.
/// </summary>
public static class SmsTexts
{
    public const int MaxSegments = 2;

    private const string AnswerInstructions =
        "Répondez OUI pour confirmer, NON pour annuler, REPORTER pour changer de date.";

    /// <summary>The message of a kind of <see cref="MessageKinds"/>: reminder, confirmation, change or cancellation.</summary>
    public static string For(string kind, MessageContext ctx)
    {
        if (kind is not (MessageKinds.Reminder or MessageKinds.Confirmation or MessageKinds.Change or MessageKinds.Cancellation))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "No SMS text for this kind of message.");
        }

        var full = new Parts(
            PlaceShortening.Clean(ctx.Service),
            FrenchDates.DayAndTime(ctx.StartsAt, ctx.Zone),
            ctx.Mode,
            PlaceShortening.Clean(ctx.LocationName),
            PlaceShortening.Clean(ctx.LocationAddress),
            LocationPhone.Written(ctx.LocationPhone),
            ShortWording: false);

        var text = "";
        foreach (var parts in Shortenings(full))
        {
            text = Gsm7.Transliterate(Compose(kind, parts));
            if (Gsm7.Segments(text) <= MaxSegments)
            {
                break;
            }
        }

        // The last shortening keeps only the date, the time and the answer instructions
        // (or the phone to call): under 200 septets, so the loop always ends on a text that fits.
        return text;
    }

    public static string Confirmed(MessageContext ctx) => FirstThatFits(
        $"Merci, votre {Subject(ctx, withService: true)} du {When(ctx)} est confirmé.",
        $"Merci, votre {Subject(ctx, withService: false)} du {When(ctx)} est confirmé.");

    public static string Cancelled(MessageContext ctx) => FirstThatFits(
        $"Votre {Subject(ctx, withService: true)} du {When(ctx)} est annulé. Merci de nous avoir prévenus.",
        $"Votre {Subject(ctx, withService: false)} du {When(ctx)} est annulé. Merci de nous avoir prévenus.");

    public static string RescheduleRequested(MessageContext ctx) => FirstThatFits(
        $"C'est noté pour votre {Subject(ctx, withService: true)} du {When(ctx)} : le service va vous recontacter pour une nouvelle date.",
        $"C'est noté pour votre rendez-vous du {When(ctx)} : le service va vous recontacter pour une nouvelle date.");

    /// <summary>The answer to a reply that comes once the appointment has started.</summary>
    public static string TooLate(MessageContext ctx)
    {
        var when = When(ctx);
        var phone = LocationPhone.Written(ctx.LocationPhone);
        return FirstThatFits(
            phone is null ? null : $"Il est trop tard pour modifier par SMS votre rendez-vous du {when}. Merci d'appeler le service au {phone}.",
            $"Il est trop tard pour modifier par SMS votre rendez-vous du {when}. Merci d'appeler le service.");
    }

    public static string OptedOut() => FirstThatFits(
        "C'est noté, vous ne recevrez plus de messages de notre part. Envoyez START pour les recevoir à nouveau.");

    public static string OptedIn() => FirstThatFits(
        "C'est noté, vous recevrez à nouveau les rappels de vos rendez-vous. Envoyez STOP pour ne plus les recevoir.");

    public static string Help() => FirstThatFits(
        "Répondez OUI pour confirmer votre rendez-vous, NON pour l'annuler, REPORTER pour changer de date, STOP pour ne plus recevoir de messages.");

    private sealed record Parts(
        string? Service, string When, string Mode, string? Name, string? Address, string? Phone, bool ShortWording);

    /// <summary>
    /// From the full text to the shortest. What loses nothing comes first (postal
    /// abbreviations, the acronyms on the place's door), then the address shrinks to its town
    /// and goes, then the place's name, then optional words, then the service's last words.
    /// The date, the time and how to answer always stay.
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

        shorter = shorter with { Address = null };
        yield return shorter;

        shorter = shorter with { Name = null };
        yield return shorter;

        shorter = shorter with { ShortWording = true };
        yield return shorter;

        foreach (var service in full.Service is null ? [] : PlaceShortening.ShorterServices(full.Service))
        {
            yield return shorter with { Service = service };
        }

        yield return shorter with { Service = null };
    }

    private static string Compose(string kind, Parts p)
    {
        var subject = Subject(p.Mode, p.Service);
        var place = Place(p);
        return (kind, p.ShortWording) switch
        {
            (MessageKinds.Reminder, false) => $"Rappel : {subject} le {p.When}{place}. {AnswerInstructions}",
            (MessageKinds.Reminder, true) => $"Rappel : {subject} {p.When}{place}. {AnswerInstructions}",
            (MessageKinds.Confirmation, false) => $"Votre {subject} est prévu le {p.When}{place}. {AnswerInstructions}",
            (MessageKinds.Confirmation, true) => $"Nouveau {subject} : {p.When}{place}. {AnswerInstructions}",
            (MessageKinds.Change, false) => $"Nouvelle date pour votre {subject} : {p.When}{place}. {AnswerInstructions}",
            (MessageKinds.Change, true) => $"Nouvelle date, {subject} : {p.When}{place}. {AnswerInstructions}",
            (_, false) => $"Votre {subject} du {p.When}{place}{(place.Length > 0 ? "," : "")} est annulé par le service. "
                + (p.Phone is null ? "Pour un autre rendez-vous, contactez le service." : $"Pour un autre rendez-vous, appelez le {p.Phone}."),
            (_, true) => $"Votre {subject} du {p.When}{place}{(place.Length > 0 ? "," : "")} est annulé."
                + (p.Phone is null ? "" : $" Tél. {p.Phone}"),
        };
    }

    private static string Place(Parts p)
    {
        // "CMS St-Denis, St-Denis": an address shortened to its town may repeat the name.
        var address = p.Name is not null && p.Address is not null && p.Name.Contains(p.Address, StringComparison.OrdinalIgnoreCase)
            ? null
            : p.Address;
        return p.Mode switch
        {
            Modes.Phone => "",
            Modes.Home => ", à votre domicile",
            _ => string.Join(", ", new[] { p.Name, address }.OfType<string>()) is { Length: > 0 } place ? ", " + place : "",
        };
    }

    internal static string Subject(string mode, string? service)
    {
        var subject = mode == Modes.Phone ? "rendez-vous téléphonique" : "rendez-vous";
        return service is null ? subject : $"{subject} {service}";
    }

    private static string Subject(MessageContext ctx, bool withService) =>
        Subject(ctx.Mode, withService ? PlaceShortening.Clean(ctx.Service) : null);

    private static string When(MessageContext ctx) => FrenchDates.DayAndTime(ctx.StartsAt, ctx.Zone);

    /// <summary>The first text that fits one segment once in GSM-7; the last is written to always fit.</summary>
    private static string FirstThatFits(params string?[] texts)
    {
        var text = "";
        foreach (var candidate in texts.OfType<string>())
        {
            text = Gsm7.Transliterate(candidate);
            if (Gsm7.Segments(text) == 1)
            {
                break;
            }
        }

        return text;
    }
}

/// <summary>
/// What a reminder call says, for Twilio's &lt;Say language="fr-FR"&gt;. Nothing personal beyond
/// the day, the hour, the place and the service: whoever picks up may not be the citizen.
/// Times are spelled for speech ("9 heures 30"), phone numbers in pairs.
/// </summary>
public static class VoiceTexts
{
    public static string Greeting() =>
        "Bonjour. Ceci est un message automatique au sujet d'un rendez-vous.";

    public static string Announcement(string kind, MessageContext ctx)
    {
        var subject = SmsTexts.Subject(ctx.Mode, PlaceShortening.Clean(ctx.Service));
        var when = $"{FrenchDates.Day(ctx.StartsAt, ctx.Zone)} à {FrenchDates.SpokenTime(ctx.StartsAt, ctx.Zone)}";
        var place = Place(ctx);
        return kind switch
        {
            MessageKinds.Reminder => $"Nous vous rappelons votre {subject}, le {when}{place}.",
            MessageKinds.Confirmation => $"Un {subject} a été fixé pour vous le {when}{place}.",
            MessageKinds.Change => $"Votre {subject} a changé de date. Il aura lieu le {when}{place}.",
            MessageKinds.Cancellation => $"Votre {subject} du {when} a été annulé par le service. "
                + (LocationPhone.Spoken(ctx.LocationPhone) is { } phone
                    ? $"Pour un autre rendez-vous, appelez le {phone}."
                    : "Pour un autre rendez-vous, contactez le service."),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "No voice text for this kind of message."),
        };
    }

    public static string Menu() =>
        "Pour confirmer, tapez 1. Pour annuler, tapez 2. Pour demander une autre date, tapez 3. Pour réécouter, tapez 9.";

    /// <summary>What the caller hears after pressing 1, 2 or 3.</summary>
    public static string Acknowledgment(ReplyIntent intent) => intent switch
    {
        ReplyIntent.Confirm => "Merci, votre rendez-vous est confirmé.",
        ReplyIntent.Cancel => "Votre rendez-vous est annulé. Merci de nous avoir prévenus.",
        ReplyIntent.Reschedule => "C'est noté. Le service va vous recontacter pour une nouvelle date.",
        _ => throw new ArgumentOutOfRangeException(nameof(intent), intent, "Only confirm, cancel and reschedule are acknowledged on a call."),
    };

    public static string Goodbye() => "Au revoir, et bonne journée.";

    /// <summary>
    /// Left on an answering machine, which anyone in the household may play: the day, the
    /// hour and the place, never the citizen's name nor the service (which may say more
    /// about them than they would like: child welfare, RSA).
    /// </summary>
    public static string AnsweringMachine(MessageContext ctx)
    {
        var when = $"{FrenchDates.Day(ctx.StartsAt, ctx.Zone)} à {FrenchDates.SpokenTime(ctx.StartsAt, ctx.Zone)}";
        var place = ctx.Mode == Modes.InPerson && PlaceShortening.Clean(ctx.LocationName) is { } name ? $", {name}" : "";
        var call = LocationPhone.Spoken(ctx.LocationPhone) is { } phone
            ? $"Pour le confirmer ou l'annuler, merci d'appeler le {phone}. Je répète : {phone}."
            : "Pour le confirmer ou l'annuler, merci d'appeler le service qui vous l'a donné.";
        return $"Bonjour. Ceci est un message automatique au sujet d'un rendez-vous le {when}{place}. {call} Au revoir.";
    }

    public static string NotUnderstood() => "Je n'ai pas compris votre choix.";

    public static string UnknownCall() => "Bonjour. Nous n'avons plus de message à vous transmettre. Au revoir.";

    private static string Place(MessageContext ctx) => ctx.Mode switch
    {
        Modes.Phone => "",
        Modes.Home => ", à votre domicile",
        _ => string.Join(", ", new[] { PlaceShortening.Clean(ctx.LocationName), PlaceShortening.Clean(ctx.LocationAddress) }.OfType<string>())
            is { Length: > 0 } place ? ", à l'adresse suivante : " + place : "",
    };
}
