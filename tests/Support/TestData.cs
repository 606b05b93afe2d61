using Dapper;
using Npgsql;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.TestSupport;

/// <summary>Tenants and appointments written straight to the database, for tests below the HTTP API.</summary>
public static class TestData
{
    public static TenantSettings Settings(QuietHours? quiet = null, IReadOnlyList<ReminderStep>? reminders = null, bool notifyOnCreate = false, string? webhookUrl = null) =>
        new(
            TimeZone: "Europe/Paris",
            Reminders: reminders ?? [new ReminderStep("sms", "P1D", OnlyIfUnconfirmed: false)],
            QuietHours: quiet,
            NotifyOnCreate: notifyOnCreate,
            NotifyOnChange: true,
            NotifyOnCancel: true,
            HoldoutPercent: 0,
            RetentionDays: 180,
            WebhookUrl: webhookUrl,
            RdvSolidaritesSecret: null);

    public static async Task<long> CreateTenantAsync(NpgsqlDataSource db, string slug, TenantSettings settings)
    {
        await using var connection = await db.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            """
            insert into tenants (slug, name, settings, api_key_hash, manager_key_hash, webhook_secret, created_at, updated_at)
            values (@slug, @slug, @settings::jsonb, @hash, @hash, 'whsec_dGVzdA==', now(), now()) returning id
            """,
            new { slug, settings = settings.ToJson(), hash = TenantSecrets.Hash(slug + Guid.NewGuid()) });
    }

    public static AppointmentData Appointment(DateTimeOffset startsAt, string phone = "06 12 34 56 78", string? channel = null)
    {
        FrenchPhone.TryParse(phone, out var parsed);
        return new AppointmentData(
            StartsAt: startsAt.ToUniversalTime(),
            DurationMinutes: 30,
            Phone: parsed.E164,
            PhoneIsMobile: parsed.IsMobile,
            FirstName: "Awa",
            LastName: "Diallo",
            Channel: channel ?? (parsed.IsMobile ? "sms" : "voice"),
            Service: "RSA",
            LocationName: "UTS Toulon Ouest",
            LocationAddress: "12 rue Picot, 83000 Toulon",
            LocationPhone: "04 94 00 00 00",
            Mode: "in_person");
    }
}
