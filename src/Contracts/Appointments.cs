using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Contracts;

/// <summary>Body of <c>PUT /v1/appointments/{externalId}</c>.</summary>
[Description("An appointment as the agenda pushes it. Only `startsAt` and `citizen.phone` are required.")]
public sealed record AppointmentRequest(
    // A string, not a DateTimeOffset: a time without an offset must be refused, not read as local time.
    [property: Required, Description("When it starts, with an offset (`Z` or `+01:00`); a time without one is refused.")] string? StartsAt,
    [property: Description("1 to 1440; default 30.")] int? DurationMinutes,
    [property: Required] CitizenRequest? Citizen,
    [property: Description("The service the citizen is expected at, as the SMS names it (`RSA`, `PMI`…).")] string? Service,
    LocationRequest? Location,
    [property: Description("`in_person` (default), `phone` or `home`.")] string? Mode);

[Description("Who is expected. Names are optional (at most 100 characters each).")]
public sealed record CitizenRequest(
    [property: Required, Description("French notations (`06 12 34 56 78`, `+33 6…`, overseas departments included) or E.164; stored in E.164.")] string? Phone,
    string? FirstName,
    string? LastName,
    [property: Description("`sms` (default for a mobile), `voice` (default for a landline) or `none`.")] string? Channel,
    [property: Description("A BCP 47 tag whose primary language is supported (`fr`, `en`, `es`, `pt`, `ar`, `tr`); default the tenant's `texts.defaultLanguage`.")] string? Language = null);

[Description("Where: the name and address are said in the reminders; the phone is the place's own.")]
public sealed record LocationRequest(string? Name, string? Address, string? Phone);

[Description("What happened at the appointment.")]
public sealed record OutcomeRequest(
    [property: Required, Description("`honoured` or `no_show` once `startsAt` has passed, `excused` at any time.")] string? Outcome);

/// <summary>An appointment as <c>GET /v1/appointments/{externalId}</c> returns it.</summary>
[Description("An appointment as stored, with every message planned, sent or received for it.")]
public sealed record AppointmentView(
    string ExternalId,
    [property: Description("In UTC.")] DateTimeOffset StartsAt,
    int DurationMinutes,
    [property: Description("`scheduled`, `confirmed`, `cancelled_by_citizen`, `cancelled_by_service` or `reschedule_requested`.")] string Status,
    [property: Description("`null`, `honoured`, `no_show` or `excused`.")] string? Outcome,
    CitizenView Citizen,
    string? Service,
    LocationView? Location,
    [property: Description("`in_person`, `phone` or `home`.")] string Mode,
    IReadOnlyList<MessageView> Messages,
    [property: Description("The wording variant the appointment was drawn into (`texts.experiment`); `null` outside a trial.")] string? Variant = null,
    [property: Description("What the tenant's `riskReminders` rule drew at creation, kept through reschedules: `targeted` (the citizen missed before; the rule's extra reminders are planned), `held_out` (missed before; only the tenant's plan, to measure the extra reminders against) or `none` (no recent no-show, or no rule).")] string Risk = "none",
    RdvSolidaritesWriteBackView? RdvSolidaritesWriteBack = null);

[Description("The citizen as stored: no names; the phone is `null` once personal data is erased.")]
public sealed record CitizenView(
    [property: Description("E.164.")] string? Phone,
    [property: Description("`sms`, `voice` or `none`.")] string Channel,
    [property: Description("The number sent STOP: nothing is sent to it from this tenant.")] bool OptedOut,
    [property: Description("The primary language tag the citizen is written to and called in.")] string Language = "fr");

public sealed record LocationView(string? Name, string? Address, string? Phone);

[Description("One SMS or call of the plan, or one reply of the citizen.")]
public sealed record MessageView(
    Guid Id,
    [property: Description("`reminder`, `confirmation`, `change`, `cancellation` or `reply`.")] string Kind,
    [property: Description("`sms` or `voice`.")] string Channel,
    [property: Description("When it is (or was) due, in UTC.")] DateTimeOffset DueAt,
    [property: Description("`pending`, `sending`, `sent`, `delivered`, `failed`, `cancelled` or `skipped`.")] string Status,
    DateTimeOffset? SentAt,
    [property: Description("Twilio's id of the SMS or call.")] string? ProviderId,
    [property: Description("SMS segments billed.")] int? Segments,
    [property: Description("Why it failed, or was skipped or cancelled (`too_late: …`, `merged: …`, `opted out`).")] string? Error,
    [property: Description("`out`, or `in` for a citizen's reply.")] string Direction = "out");
