using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Budgets;

namespace RappelRdv.Api.Usage;

/// <summary>
/// What sending cost, by UTC month: <c>GET /v1/usage</c> for a tenant (agenda or manager key),
/// <c>GET /v1/admin/usage</c> for the operator (JSON, or CSV with <c>Accept: text/csv</c>).
/// Without <c>month</c>, the current one.
/// </summary>
internal static class UsageEndpoints
{
    public static void MapUsage(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1/usage")
            .WithTags("Usage (managers)")
            .RequireAuthorization(Policies.Manager)
            .MapGet("", TenantUsage)
            .WithSummary("The tenant's usage and budget for a month")
            .WithDescription(
                "SMS sent (messages and billed segments) and answered calls (count, and minutes with each call rounded up) in `month` "
                + "(`YYYY-MM`, default the current one), in all and by kind of message; their cost at the operator's prices "
                + "(`amount`, `null` without prices); the caps (`budget`: segments and call minutes, `null`: no cap) and the share of each used. "
                + "The apiKey or the managerKey.");
        app.MapGroup("/v1/admin/usage")
            .WithTags("Usage (operator)")
            .RequireAuthorization(Policies.Admin)
            .MapGet("", AdminUsage)
            .WithSummary("Every tenant's usage for a month (operator)")
            .WithDescription(
                "One row per tenant, counted as `GET /v1/usage` counts it, for `month` (`YYYY-MM`, default the current one), and the "
                + "Twilio account as the Worker last read it (balance, floor, a pause of sending). `Accept: text/csv` gives the rows as CSV.");
    }

    private static async Task<Results<Ok<UsageReport>, ValidationProblem>> TenantUsage(
        string? month, ClaimsPrincipal user, UsageReader usage, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!TryMonth(month, clock, out var parsed, out var problem))
        {
            return problem;
        }

        return TypedResults.Ok(await usage.ForTenantAsync(user.TenantId(), parsed, cancellationToken));
    }

    private static async Task<Results<Ok<AdminUsageReport>, FileContentHttpResult, ValidationProblem>> AdminUsage(
        string? month, HttpRequest request, UsageReader usage, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!TryMonth(month, clock, out var parsed, out var problem))
        {
            return problem;
        }

        var report = await usage.ForAllAsync(parsed, clock.GetUtcNow(), cancellationToken);
        var wantsCsv = request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/csv", StringComparison.OrdinalIgnoreCase));
        return wantsCsv
            ? TypedResults.File(UsageCsv.Write(report), "text/csv; charset=utf-8", $"consommation_{report.Month}.csv")
            : TypedResults.Ok(report);
    }

    private static bool TryMonth(string? text, TimeProvider clock, out DateOnly month, out ValidationProblem problem)
    {
        problem = null!;
        if (text is null)
        {
            month = UsageCounters.MonthOf(clock.GetUtcNow());
            return true;
        }

        if (UsageCounters.TryParseMonth(text, out month))
        {
            return true;
        }

        problem = TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["month"] = ["Must be a month 'YYYY-MM', such as '2026-11'."] },
            title: "The request has invalid fields");
        return false;
    }
}
