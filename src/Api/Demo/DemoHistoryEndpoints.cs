using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Demo;

/// <summary>
/// <c>POST /v1/admin/tenants/{slug}/demo-history</c> (operator): about three months of made-up
/// past appointments, with outcomes, reminders, replies and a few delivery failures, and a riskReminders
/// rule's draws (its extra calls, its held-out group; the rule itself is set when the tenant has none), so that a
/// demonstration tenant's dashboard shows a real picture from the first start. <c>./run.sh</c>
/// calls it when it creates the <c>demo</c> tenant (<c>DEMO_HISTORY=0</c> skips it).
/// Mapped only in Development or with <c>Demo__HistoryEndpoint=true</c> (which <c>./run.sh</c> sets):
/// a production Api has no way to write made-up appointments.
/// </summary>
/// <remarks>What is written, and how, is <see cref="DemoHistory"/>'s (src/Reminders/Appointments).</remarks>
internal static class DemoHistoryEndpoints
{
    public const int Weeks = 13;

    public const int AppointmentsPerWeekday = 45;

    public static void MapDemoHistory(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment() && !app.Configuration.GetValue<bool>("Demo:HistoryEndpoint"))
        {
            return;
        }

        app.MapPost("/v1/admin/tenants/{slug}/demo-history", Create)
            .WithTags("Tenants (operator)")
            .RequireAuthorization(Policies.Admin)
            .WithName("CreateDemoHistory")
            .WithSummary("Fill a demonstration tenant with three months of made-up history")
            .WithDescription("Past appointments only (nothing is ever sent for them), with outcomes, reminders and replies, so that a "
                + "demonstration dashboard shows a real picture. Idempotent: a tenant that already has demo appointments gets nothing more.")
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<DemoHistoryCreated>, ProblemHttpResult>> Create(
        string slug, TenantDirectory tenants, NpgsqlDataSource db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = await tenants.FindAsync(slug, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound($"No tenant '{slug}'.");
        }

        var now = clock.GetUtcNow();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, tenant.Settings.Zone).DateTime);
        var created = await DemoHistory.WriteAsync(db, tenant.Id, tenant.Settings.TimeZone, today, Weeks, AppointmentsPerWeekday, now, cancellationToken);
        if (created.Appointments > 0 && tenant.Settings.RiskReminders is null)
        {
            await using var connection = await db.OpenConnectionAsync(cancellationToken);
            // The history has appointments drawn by a rule: the tenant gets the rule, unless it has one of its own.
            await connection.ExecuteAsync(new CommandDefinition(
                "update tenants set settings = jsonb_set(settings, '{riskReminders}', @rule::jsonb) where id = @tenantId",
                new { tenantId = tenant.Id, rule = JsonSerializer.Serialize(DemoRule, JsonSerializerOptions.Web) },
                cancellationToken: cancellationToken));
        }

        return TypedResults.Ok(new DemoHistoryCreated(created.Appointments, created.Messages));
    }

    /// <summary>The demo's riskReminders rule: a call the day before for whoever missed once in a year, 30 % held out.</summary>
    internal static readonly RiskReminders DemoRule = new(1, 365, [new ReminderStep("voice", "P1D", false)], 30);

    /// <summary>What a demo history added: appointments and messages (reminders and replies).</summary>
    internal sealed record DemoHistoryCreated(long Appointments, long Messages);
}
