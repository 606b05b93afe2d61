namespace RappelRdv.Contracts;

/// <summary>Body of <c>PUT /v1/appointments/{externalId}</c>.</summary>
public sealed record AppointmentRequest(
    // A string, not a DateTimeOffset: a time without an offset must be refused, not read as local time.
    string? StartsAt,
    int? DurationMinutes,
    CitizenRequest? Citizen,
    string? Service,
    LocationRequest? Location,
    string? Mode);

/// <param name="Language">A BCP 47 tag whose primary language is supported (fr, en, es, pt, ar, tr); default the tenant's texts.defaultLanguage.</param>
public sealed record CitizenRequest(string? Phone, string? FirstName, string? LastName, string? Channel, string? Language = null);

public sealed record LocationRequest(string? Name, string? Address, string? Phone);

public sealed record OutcomeRequest(string? Outcome);

/// <summary>An appointment as <c>GET /v1/appointments/{externalId}</c> returns it.</summary>
public sealed record AppointmentView(
    string ExternalId,
    DateTimeOffset StartsAt,
    int DurationMinutes,
    string Status,
    string? Outcome,
    CitizenView Citizen,
    string? Service,
    LocationView? Location,
    string Mode,
    IReadOnlyList<MessageView> Messages,
    // The wording variant the appointment was drawn into (texts.experiment); null outside a trial.
    string? Variant = null);

/// <param name="Language">The primary language tag the citizen is written to and called in.</param>
public sealed record CitizenView(string? Phone, string Channel, bool OptedOut, string Language = "fr");

public sealed record LocationView(string? Name, string? Address, string? Phone);

public sealed record MessageView(
    Guid Id,
    string Kind,
    string Channel,
    DateTimeOffset DueAt,
    string Status,
    DateTimeOffset? SentAt,
    string? ProviderId,
    int? Segments,
    string? Error,
    string Direction = "out");
