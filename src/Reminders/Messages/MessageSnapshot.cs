using System.Collections.Concurrent;
using Dapper;
using Npgsql;
using RappelRdv.Reminders.Database;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Messages;

/// <summary>
/// A message as everything that acts on it sees it: the row, its appointment, the tenant's settings
/// (parsed once, here), whether the number opted out, the last message that may have reached the
/// citizen. One shape and one query (<see cref="MessageSnapshots"/>) for the replies, the calls and
/// the failures, and for the Worker's dispatcher, which reads it from the same columns. Public for that host.
/// </summary>
public sealed record MessageSnapshot(
    Guid Id,
    string Kind,
    string Channel,
    bool OnlyIfUnconfirmed,
    int PlanVersion,
    string Status,
    Guid? ClaimToken,
    int Attempts,
    long AppointmentId,
    long TenantId,
    string ExternalId,
    DateTime StartsAtUtc,
    string AppointmentStatus,
    string? Outcome,
    string? Phone,
    bool PhoneIsMobile,
    string CitizenChannel,
    string? Service,
    string? LocationName,
    string? LocationAddress,
    string? LocationPhone,
    string Mode,
    int CurrentPlanVersion,
    string Settings,
    bool OptedOut,
    bool SmsUnusable,
    // The last message of the appointment that may have reached the citizen: sent, or started with its outcome unknown.
    DateTime? LastSentAtUtc,
    string Language = "fr",
    string? Variant = null,
    // The span that planned the message (RappelTelemetry.CurrentTraceparent), for its send's link.
    string? Traceparent = null)
{
    public DateTimeOffset StartsAt => StartsAtUtc.AsUtc();

    public DateTimeOffset? LastSentAt => LastSentAtUtc?.AsUtc();

    private TenantSettings? parsedSettings;

    /// <summary>The tenant's settings, parsed once per read, at first use (or shared: <see cref="ShareSettings"/>).</summary>
    public TenantSettings TenantSettings => parsedSettings ??= TenantSettings.FromJson(Settings);

    /// <summary>
    /// Takes the tenant's settings from <paramref name="parsed"/> (keyed by their text), parsing and adding
    /// them there if absent: a claim of 64 messages of one tenant parses its settings once, not 64 times.
    /// The key is the text itself, so a changed setting is a new key, never a stale parse.
    /// </summary>
    public MessageSnapshot ShareSettings(ConcurrentDictionary<string, TenantSettings> parsed)
    {
        var settings = parsed.GetOrAdd(Settings, TenantSettings.FromJson);
        parsedSettings = settings;
        return this;
    }

    /// <summary>What the message's text (or an answer about its appointment) is written from.</summary>
    public MessageContext Context() =>
        MessageContext.Of(TenantSettings, Service, StartsAt, Mode, LocationName, LocationAddress, LocationPhone, Language, Variant);
}

/// <summary>The one query of <see cref="MessageSnapshot"/>.</summary>
public static class MessageSnapshots
{
    /// <summary>The snapshot of a message "m", up to its joins: a caller adds its where clause (and locks).</summary>
    public const string Columns =
        """
        select m.id, m.kind, m.channel, m.only_if_unconfirmed, m.plan_version, m.status, m.claim_token, m.attempts,
               a.id as appointment_id, a.tenant_id, a.external_id, a.starts_at as starts_at_utc, a.status as appointment_status,
               a.outcome, a.phone, a.phone_is_mobile, a.channel as citizen_channel, a.service, a.location_name,
               a.location_address, a.location_phone, a.mode, a.plan_version as current_plan_version, t.settings::text as settings,
               exists (select 1 from opt_outs o where o.tenant_id = a.tenant_id and o.phone = a.phone) as opted_out,
               coalesce((select f.sms_unusable from phone_flags f where f.phone = a.phone), false) as sms_unusable,
               -- The 15-minute gap counts what may have reached the citizen: sent, and started with its
               -- outcome unknown (its send recorded in message_sends, its answer lost).
               greatest(
                   (select max(s.sent_at) from messages s
                    where s.appointment_id = a.id and s.id <> m.id and s.kind <> 'reply' and s.status in ('sent', 'delivered')),
                   (select max(ms.started_at) from messages s join message_sends ms on ms.message_id = s.id and ms.claim_token = s.claim_token
                    where s.appointment_id = a.id and s.id <> m.id and s.kind <> 'reply' and s.status = 'sending')) as last_sent_at_utc,
               a.language, a.variant, m.traceparent
        from messages m
        join appointments a on a.id = m.appointment_id
        join tenants t on t.id = a.tenant_id
        """;

    /// <summary>The message of this id (of this channel, when given), or null.</summary>
    internal static Task<MessageSnapshot?> ByIdAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid messageId, string? channel = null) =>
        connection.QuerySingleOrDefaultAsync<MessageSnapshot>(
            $"""
            {Columns}
            where m.id = @messageId and (@channel::text is null or m.channel = @channel)
            """,
            new { messageId, channel }, transaction);

    /// <summary>The message Twilio knows by this SID, or null.</summary>
    internal static Task<MessageSnapshot?> BySidAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sid) =>
        connection.QuerySingleOrDefaultAsync<MessageSnapshot>(
            $"""
            {Columns}
            where m.provider_id = @sid
            """,
            new { sid }, transaction);
}
