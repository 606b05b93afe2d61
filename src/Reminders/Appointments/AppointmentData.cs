using System.Security.Cryptography;
using System.Text.Json;

namespace RappelRdv.Reminders.Appointments;

/// <summary>An appointment as an agenda describes it, validated and normalised.</summary>
public sealed record AppointmentData(
    DateTimeOffset StartsAt,
    int DurationMinutes,
    // Null when the citizen has no usable number (kept for the statistics, channel "none").
    string? Phone,
    bool PhoneIsMobile,
    string? FirstName,
    string? LastName,
    string Channel,
    string? Service,
    string? LocationName,
    string? LocationAddress,
    string? LocationPhone,
    string Mode,
    bool RemindersAllowed = true,
    bool NotificationsAllowed = true,
    // A supported primary tag, or null for the tenant's texts.defaultLanguage.
    string? Language = null)
{
    /// <summary>Identical descriptions have identical hashes: an identical PUT changes nothing.</summary>
    /// <remarks>The JSON's UTF-8 bytes as the serializer writes them: the same bytes as its text encoded, without the text.</remarks>
    public byte[] ContentHash() =>
        SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this with { StartsAt = StartsAt.ToUniversalTime() }));
}
