using System.Globalization;
using System.Text.RegularExpressions;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Phones;

namespace RappelRdv.Api.RdvSolidarites;

/// <summary>One webhook about one RDV, in the service's words.</summary>
/// <param name="Timestamp">When RDV-Solidarités computed the payload (UTC): orders the webhooks.</param>
/// <param name="Erase">The RDV was deleted for the citizen's right to erasure: personal data goes at once.</param>
internal sealed record RdvsChange(long RdvId, string Event, DateTimeOffset Timestamp, bool Erase, IReadOnlyList<RdvsParticipant> Participants);

/// <summary>One participant of the RDV: one appointment.</summary>
/// <param name="Status">The participation's RDV-Solidarités status, else the RDV's.</param>
/// <param name="Data">Null only for a <c>destroyed</c> RDV sent without its start.</param>
/// <param name="ParticipationId">What a write-back PATCHes; null from an RDV that lists only its users.</param>
internal sealed record RdvsParticipant(string ExternalId, string Status, AppointmentData? Data, long? ParticipationId = null);

internal static partial class RdvSolidaritesMapping
{
    // An offset is required, as for the agenda API; RDV-Solidarités always sends one ("…T09:30:00.000+01:00").
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex InstantPattern();

    public static string ExternalId(long rdvId, long userId) =>
        string.Create(CultureInfo.InvariantCulture, $"rdvs-{rdvId}-{userId}");

    /// <summary>When the payload was computed; <c>meta.timestamp</c>, else its newer names.</summary>
    public static DateTimeOffset? ReadTimestamp(RdvsMeta meta, FieldErrors errors)
    {
        var (field, text) = meta.Timestamp is not null ? ("meta.timestamp", meta.Timestamp)
            : meta.PayloadComputedAt is not null ? ("meta.payload_computed_at", meta.PayloadComputedAt)
            : meta.EventOccurredAt is not null ? ("meta.event_occurred_at", meta.EventOccurredAt)
            : ("meta.timestamp", null);
        if (TryParseInstant(text, out var timestamp))
        {
            return timestamp;
        }

        errors.Add(field, "Required: an ISO 8601 date and time with its offset; it orders the webhooks.");
        return null;
    }

    public static RdvsChange? Map(string @event, DateTimeOffset timestamp, string? webhookReason, RdvsRdv rdv, FieldErrors errors)
    {
        if (rdv.Id is not { } rdvId)
        {
            errors.Add("data.id", "Required: the RDV's id.");
            return null;
        }

        DateTimeOffset? startsAt = null;
        if (TryParseInstant(rdv.StartsAt, out var parsedStart))
        {
            startsAt = parsedStart;
        }
        else if (rdv.StartsAt is not null || @event != Rdvs.Destroyed)
        {
            // A deleted RDV only needs its participants; anything else needs its start.
            errors.Add("data.starts_at", "Required: an ISO 8601 date and time with its offset.");
        }

        // What is kept of the RDV (the service, the place) and of each participant (names) is checked as the agenda API checks it.
        ControlCharacters.Check(errors, "data.motif.name", rdv.Motif?.Name);
        ControlCharacters.Check(errors, "data.lieu.name", rdv.Lieu?.Name);
        ControlCharacters.Check(errors, "data.lieu.address", rdv.Lieu?.Address);
        ControlCharacters.Check(errors, "data.lieu.phone_number", rdv.Lieu?.PhoneNumber);

        var participants = new List<RdvsParticipant>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (participation, userIdPath) in Participations(rdv))
        {
            if (participation is null || participation.User?.Id is not { } userId)
            {
                errors.Add(userIdPath, "Required: each participant's id.");
                continue;
            }

            var userPath = userIdPath[..^".id".Length];
            ControlCharacters.Check(errors, userPath + ".first_name", participation.User.FirstName);
            ControlCharacters.Check(errors, userPath + ".last_name", participation.User.LastName);
            if (ServiceNumber(participation.User) is { } service)
            {
                // Named as the agenda API names it: the same rule, whichever door the number came through.
                errors.Add("citizen.phone", $"{userPath}: {FrenchPhone.CitizenRefusal(service)}");
            }

            var externalId = ExternalId(rdvId, userId);
            if (!seen.Add(externalId))
            {
                continue;
            }

            var status = Status(participation.Status ?? rdv.Status);
            participants.Add(new RdvsParticipant(externalId, status,
                startsAt is { } start ? Describe(rdv, participation, participation.User, start) : null, participation.Id));
        }

        return errors.Any
            ? null
            : new RdvsChange(rdvId, @event, timestamp, @event == Rdvs.Destroyed && webhookReason == Rdvs.ReasonRgpd, participants);
    }

    /// <summary>
    /// The participations; before they existed (and with an <c>include</c> that leaves them out)
    /// an RDV only listed its <c>users</c>, each then with the RDV's status and the default permissions.
    /// </summary>
    private static IEnumerable<(RdvsParticipation? Participation, string UserIdPath)> Participations(RdvsRdv rdv)
    {
        if (rdv.Participations is { } participations)
        {
            return participations.Select((p, i) => (p, $"data.participations[{i}].user.id"));
        }

        return (rdv.Users ?? []).Select((u, i) =>
            (u is null ? null : new RdvsParticipation(null, null, null, null, u), $"data.users[{i}].id"));
    }

    private static AppointmentData Describe(RdvsRdv rdv, RdvsParticipation participation, RdvsUser user, DateTimeOffset startsAt)
    {
        // The participant's number, else the one of the user responsible for them (a child, a
        // protected adult): the reminder goes to whoever can act on it.
        ParsedPhone? phone = null;
        RdvsUser? reached = null;
        foreach (var candidate in new[] { user, user.Responsible })
        {
            if (candidate is not null
                && (TryPhone(candidate.PhoneNumberFormatted, out phone) || TryPhone(candidate.PhoneNumber, out phone)))
            {
                reached = candidate;
                break;
            }
        }

        // notify_by_sms is the choice of the person the messages would reach.
        var smsAccepted = (reached ?? user).NotifyBySms != false;
        var channel = phone is null ? Channels.None : phone.IsMobile ? Channels.Sms : Channels.Voice;
        var lieu = rdv.Lieu;

        return new AppointmentData(
            startsAt,
            // The agenda API's bounds; RDV-Solidarités' value is only informative here, so it is
            // brought within them rather than refused.
            Math.Clamp(rdv.DurationInMin ?? 30, 1, 1440),
            phone?.E164,
            phone?.IsMobile ?? false,
            Clip(user.FirstName, 100),
            Clip(user.LastName, 100),
            channel,
            Clip(rdv.Motif?.Name, 100),
            Clip(lieu?.Name, 200),
            Clip(lieu?.Address, 300),
            Clip(lieu?.PhoneNumber, 40),
            Mode(rdv.Motif?.LocationType),
            RemindersAllowed: participation.SendReminderNotification != false && smsAccepted,
            NotificationsAllowed: participation.SendLifecycleNotifications != false && smsAccepted);
    }

    private static bool TryPhone(string? text, out ParsedPhone phone) => FrenchPhone.TryParseCitizen(text, out phone);

    /// <summary>The number the reminders would reach (as <see cref="Describe"/> picks it), when it is an 08 service number.</summary>
    private static string? ServiceNumber(RdvsUser user)
    {
        foreach (var candidate in new[] { user, user.Responsible })
        {
            foreach (var text in new[] { candidate?.PhoneNumberFormatted, candidate?.PhoneNumber })
            {
                if (FrenchPhone.TryParse(text, out var phone))
                {
                    return phone.IsCitizenLine ? null : text;
                }
            }
        }

        return null;
    }

    private static string Mode(string? locationType) => locationType switch
    {
        "phone" => Modes.Phone,
        "home" => Modes.Home,
        // A video call has no place to give either: of the contract's modes, phone is the closest.
        "visio" => Modes.Phone,
        _ => Modes.InPerson,
    };

    /// <summary>
    /// The statuses RDV-Solidarités defines; any other (a status added after this was written) is
    /// read as <c>unknown</c>: the appointment keeps its state rather than the webhook being refused.
    /// </summary>
    private static string Status(string? status) => status switch
    {
        Rdvs.StatusSeen or Rdvs.StatusNoShow or Rdvs.StatusExcused or Rdvs.StatusRevoked => status,
        _ => Rdvs.StatusUnknown,
    };

    private static bool TryParseInstant(string? text, out DateTimeOffset value)
    {
        value = default;
        if (text is null || !InstantPattern().IsMatch(text)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        // UTC: what is stored, and the only offset Npgsql writes to a timestamptz.
        value = parsed.ToUniversalTime();
        return true;
    }

    private static string? Clip(string? value, int max)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var trimmed = value.Trim();
        return trimmed.Length <= max ? trimmed : trimmed[..max];
    }
}
