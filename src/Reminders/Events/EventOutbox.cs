using System.Text.Json;
using Dapper;
using Npgsql;
using RappelRdv.Contracts;

namespace RappelRdv.Reminders.Events;

/// <summary>
/// Events for a tenant's agenda are written in the same transaction as the change they tell
/// of (an outbox), then delivered by the Worker: nothing is told that did not happen, nothing
/// that happened is lost.
/// </summary>
public static class EventOutbox
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new UtcTimestampConverter() } };

    public static async Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long tenantId, string type, AgendaEventData data, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7(now);
        var payload = JsonSerializer.Serialize(new AgendaEvent(type, now, data), Json);
        await connection.ExecuteAsync(
            """
            insert into events (id, tenant_id, type, payload, created_at, next_attempt_at)
            select @id, @tenantId, @type, @payload::jsonb, @now, @now
            from tenants where id = @tenantId and settings->>'webhookUrl' is not null
            """,
            new { id, tenantId, type, payload, now },
            transaction);
    }
}
