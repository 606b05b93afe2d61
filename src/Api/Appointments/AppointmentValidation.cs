using System.Globalization;
using System.Text.RegularExpressions;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Api.Appointments;

internal static partial class AppointmentValidation
{
    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex ExternalIdPattern();

    // An offset is required: "Z" or ±hh:mm. A local time alone is ambiguous twice a year.
    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex StartsAtPattern();

    public static bool IsValidExternalId(string externalId) => ExternalIdPattern().IsMatch(externalId);

    public static AppointmentData? Validate(AppointmentRequest request, FieldErrors errors)
    {
        DateTimeOffset startsAt = default;
        if (string.IsNullOrEmpty(request.StartsAt))
        {
            errors.Add("startsAt", "Required: an ISO 8601 date and time with its offset, such as '2026-12-03T09:30:00+01:00'.");
        }
        else if (!StartsAtPattern().IsMatch(request.StartsAt)
            || !DateTimeOffset.TryParse(request.StartsAt, CultureInfo.InvariantCulture, DateTimeStyles.None, out startsAt))
        {
            errors.Add("startsAt", "Must be an ISO 8601 date and time with its offset ('Z' or '+01:00'), such as '2026-12-03T09:30:00+01:00'.");
        }

        var duration = request.DurationMinutes ?? 30;
        if (duration is < 1 or > 1440)
        {
            errors.Add("durationMinutes", "Must be between 1 and 1440.");
        }

        ParsedPhone? phone = null;
        if (request.Citizen is null)
        {
            errors.Add("citizen", "Required, with at least 'phone'.");
        }
        else
        {
            if (string.IsNullOrWhiteSpace(request.Citizen.Phone))
            {
                errors.Add("citizen.phone", "Required: a French phone number, such as '06 12 34 56 78' or '+33 6 12 34 56 78'.");
            }
            else if (!FrenchPhone.TryParseCitizen(request.Citizen.Phone, out var parsed))
            {
                errors.Add("citizen.phone", FrenchPhone.CitizenRefusal(request.Citizen.Phone));
            }
            else
            {
                phone = parsed;
            }

            if (request.Citizen.Channel is { } channel && !Channels.Citizen.Contains(channel))
            {
                errors.Add("citizen.channel", "Must be 'sms', 'voice' or 'none'.");
            }
            else if (request.Citizen.Channel == Channels.Sms && phone is { IsMobile: false })
            {
                errors.Add("citizen.channel", "'sms' needs a mobile number; this one is a landline: use 'voice'.");
            }

            if (request.Citizen.Language is not null && Languages.Supported(request.Citizen.Language) is null)
            {
                errors.Add("citizen.language", $"Must be a BCP 47 language tag of a supported language: {string.Join(", ", Languages.Codes)}.");
            }

            CheckLength(errors, "citizen.firstName", request.Citizen.FirstName, 100);
            CheckLength(errors, "citizen.lastName", request.Citizen.LastName, 100);
        }

        CheckLength(errors, "service", request.Service, 100);
        CheckLength(errors, "location.name", request.Location?.Name, 200);
        CheckLength(errors, "location.address", request.Location?.Address, 300);
        CheckLength(errors, "location.phone", request.Location?.Phone, 40);

        var mode = request.Mode ?? Modes.InPerson;
        if (!Modes.All.Contains(mode))
        {
            errors.Add("mode", "Must be 'in_person', 'phone' or 'home'.");
        }

        if (errors.Any)
        {
            return null;
        }

        var citizenChannel = request.Citizen!.Channel ?? (phone!.IsMobile ? Channels.Sms : Channels.Voice);
        return new AppointmentData(
            StartsAt: startsAt.ToUniversalTime(),
            DurationMinutes: duration,
            Phone: phone!.E164,
            PhoneIsMobile: phone.IsMobile,
            FirstName: Clean(request.Citizen.FirstName),
            LastName: Clean(request.Citizen.LastName),
            Channel: citizenChannel,
            Service: Clean(request.Service),
            LocationName: Clean(request.Location?.Name),
            LocationAddress: Clean(request.Location?.Address),
            LocationPhone: Clean(request.Location?.Phone),
            Mode: mode,
            Language: Languages.Supported(request.Citizen.Language));
    }

    private static void CheckLength(FieldErrors errors, string field, string? value, int max)
    {
        if (value is { Length: > 0 } && value.Length > max)
        {
            errors.Add(field, $"At most {max} characters.");
        }
    }

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
