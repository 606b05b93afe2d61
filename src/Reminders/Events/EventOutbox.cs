using System.Text.Json;
using Dapper;
using Npgsql;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Telemetry;

namespace RappelRdv.Reminders.Events;

/// <summary>
/// Events for a tenant's agenda are written in the same transaction as the change they tell
/// of (an outbox), then delivered by the Worker: nothing is told that did not happen, nothing
/// that happened is lost. Each keeps the <c>traceparent</c> of the span that caused it (a request,
/// a send), when one is recorded: its delivery links back to it.
/// </summary>
internal static class EventOutbox
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new UtcTimestampConverter() } };

    public static Task RecordAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long tenantId, string type, AgendaEventData data, DateTimeOffset now) =>
        InsertAsync(connection, transaction, tenantId, type, JsonSerializer.Serialize(new AgendaEvent(type, now, data), Json), now);

    /// <summary>An event about the tenant itself (its budget), not about one appointment.</summary>
    public static Task RecordAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, long tenantId, BudgetEvent budgetEvent) =>
        InsertAsync(connection, transaction, tenantId, budgetEvent.Type, JsonSerializer.Serialize(budgetEvent, Json), budgetEvent.Timestamp);

    private static async Task InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, long tenantId, string type, string payload, DateTimeOffset now)
    {
        var id = Guid.CreateVersion7(now);
        await connection.ExecuteAsync(
            """
            insert into events (id, tenant_id, type, payload, created_at, next_attempt_at, traceparent)
            select @id, @tenantId, @type, @payload::jsonb, @now, @now, @traceparent
            from tenants where id = @tenantId and settings->>'webhookUrl' is not null
            """,
            new { id, tenantId, type, payload, now, traceparent = RappelTelemetry.CurrentTraceparent() },
            transaction);
    }
}
