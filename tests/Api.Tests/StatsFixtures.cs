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

    public static async Task AddAsync(
        PostgresDatabase database, long tenantId, string startsAt, string status = "scheduled", string? outcome = null,
        string? service = "RSA", string? location = "UTS Toulon Ouest", string channel = "sms", bool holdout = false, bool confirmed = false,
        string? phone = "+33612345678")
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            insert into appointments (tenant_id, external_id, starts_at, duration_minutes, status, outcome, phone, phone_is_mobile, channel,
                service, location_name, mode, holdout, content_hash, confirmed_at, created_at, updated_at)
            values (@tenantId, @externalId, @startsAt::timestamptz, 30, @status, @outcome, @phone, true, @channel,
                @service, @location, 'in_person', @holdout, '\x00', case when @confirmed then now() end, now(), now())
            """,
            new
            {
                tenantId, externalId = $"fixture-{Interlocked.Increment(ref counter)}", startsAt, status, outcome, phone, channel,
                service, location, holdout, confirmed,
            });
    }
}
