using System.Security.Cryptography;
using System.Text;
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
    public byte[] ContentHash() =>
        SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(this with { StartsAt = StartsAt.ToUniversalTime() })));
}
