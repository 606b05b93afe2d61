using Dapper;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>Appointments written straight to the table, with exactly the status, outcome and flags a statistics test needs.</summary>
internal static class StatsFixtures
{
    private static int counter;

    public static async Task<long> TenantIdAsync(PostgresDatabase database, string slug)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>("select id from tenants where slug = @slug", new { slug });
    }

    /// <summary><paramref name="count"/> alike appointments, a minute apart from <paramref name="startsAt"/>.</summary>
    public static async Task AddAsync(
        PostgresDatabase database, long tenantId, string startsAt, string status = "scheduled", string? outcome = null,
        string? service = "RSA", string? location = "UTS Toulon Ouest", string channel = "sms", bool holdout = false, bool confirmed = false,
        string? phone = "+33612345678", string language = "fr", string? variant = null, int count = 1)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, outcome, phone, phone_is_mobile, channel,
                service, location_name, mode, holdout, content_hash, confirmed_at, language, variant, created_at, updated_at)
            select @tenantId, @externalId || '-' || n, @startsAt::timestamptz + (n - 1) * interval '1 minute', 30, @status, @outcome, @phone, true,
                @channel, @service, @location, 'in_person', @holdout, '\x00', case when @confirmed then now() end, @language, @variant, now(), now()
            from generate_series(1, @count) n
            """,
            new
            {
                tenantId, externalId = $"fixture-{Interlocked.Increment(ref counter)}", startsAt, status, outcome, phone, channel,
                service, location, holdout, confirmed, language, variant, count,
            });
    }
}
