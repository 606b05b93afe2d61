using Dapper;
using Npgsql;

namespace RappelRdv.Reminders.Audit;

/// <summary>One line of the audit trail, as the operator reads it.</summary>
public sealed record AuditEntry(DateTimeOffset At, string? Tenant, string Action, string Actor, string? RemoteAddress, string? Detail);

/// <summary>
/// Who signed in, who looked at personal data, who exported figures (table <c>audit</c>, migration
/// 0011). Written by the Api, purged by the Worker's retention job after <see cref="RetentionDays"/>.
/// The actor is a manager's e-mail or a key login ("managerKey"), never a key and never a citizen's
/// phone: the details written here are the Api's own words (a period, a breakdown), not request data.
/// </summary>
public sealed class AuditTrail(NpgsqlDataSource db, TimeProvider clock)
{
    public const int RetentionDays = 365;

    public static class Actions
    {
        public const string SignIn = "sign_in";
        public const string SignInRefused = "sign_in_refused";
        public const string ViewFailures = "view_failures";
        public const string ExportCsv = "export_csv";
        public const string OperatorSignIn = "operator_sign_in";
        public const string ErasePersonalData = "erase_personal_data";
    }

    public async Task WriteAsync(long? tenantId, string action, string actor, string? remoteAddress, string? detail, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            insert into audit (at, tenant_id, action, actor, remote_address, detail)
            values (@at, @tenantId, @action, @actor, @remoteAddress, @detail)
            """,
            new { at = clock.GetUtcNow(), tenantId, action, actor, remoteAddress, detail }, cancellationToken: cancellationToken));
    }

    /// <summary>The newest first; <paramref name="slug"/> null: every tenant and the operator's own sign-ins.</summary>
    public async Task<IReadOnlyList<AuditEntry>> ReadAsync(string? slug, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Row>(new CommandDefinition(
            """
            select a.at, t.slug as tenant, a.action, a.actor, a.remote_address, a.detail
            from audit a left join tenants t on t.id = a.tenant_id
            where @slug::text is null or t.slug = @slug
            order by a.at desc, a.id desc
            limit @limit
            """,
            new { slug, limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new AuditEntry(new DateTimeOffset(DateTime.SpecifyKind(r.At, DateTimeKind.Utc)), r.Tenant, r.Action, r.Actor,
            r.RemoteAddress, r.Detail))];
    }

    /// <summary>Deletes what is older than a year; returns how many rows went.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "delete from audit where at < @before",
            new { before = clock.GetUtcNow() - TimeSpan.FromDays(RetentionDays) }, cancellationToken: cancellationToken));
    }

    private sealed record Row(DateTime At, string? Tenant, string Action, string Actor, string? RemoteAddress, string? Detail);
}
