using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Contracts;

/// <summary>Body of <c>PUT /v1/appointments/{externalId}</c>.</summary>
public sealed record AppointmentRequest(
    // A string, not a DateTimeOffset: a time without an offset must be refused, not read as local time.
    [property: Required] string? StartsAt,
    int? DurationMinutes,
    [property: Required] CitizenRequest? Citizen,
    string? Service,
    LocationRequest? Location,
    string? Mode);

public sealed record CitizenRequest([property: Required] string? Phone, string? FirstName, string? LastName, string? Channel);

public sealed record LocationRequest(string? Name, string? Address, string? Phone);

public sealed record OutcomeRequest([property: Required] string? Outcome);

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
    IReadOnlyList<MessageView> Messages);

public sealed record CitizenView(string? Phone, string Channel, bool OptedOut);

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
