using Dapper;
using Npgsql;

namespace RappelRdv.Reminders.Tenants;

public sealed record Tenant(long Id, string Slug, string Name, TenantSettings Settings, string WebhookSecret);

/// <summary>Reads tenants. Not cached: settings and keys take effect on the next request.</summary>
public sealed class TenantDirectory(NpgsqlDataSource db)
{
    public async Task<Tenant?> FindAsync(long id, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return Map(await connection.QuerySingleOrDefaultAsync<Row>(
            "select id, slug, name, settings::text as settings, webhook_secret, history_key from tenants where id = @id", new { id }));
    }

    public async Task<Tenant?> FindAsync(string slug, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return Map(await connection.QuerySingleOrDefaultAsync<Row>(
            "select id, slug, name, settings::text as settings, webhook_secret, history_key from tenants where slug = @slug", new { slug }));
    }

    private static Tenant? Map(Row? row) =>
        row is null ? null : new Tenant(row.Id, row.Slug, row.Name, TenantSettings.FromJson(row.Settings) with { HistoryKey = row.HistoryKey }, row.WebhookSecret);

    private sealed record Row(long Id, string Slug, string Name, string Settings, string WebhookSecret, byte[] HistoryKey);
}
