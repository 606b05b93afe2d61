using Microsoft.AspNetCore.Http.HttpResults;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Audit;

namespace RappelRdv.Api.Operator;

/// <summary><c>GET /v1/admin/audit?tenant=…&amp;limit=…</c>: the audit trail, for the operator (kept a year).</summary>
internal static class AuditEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static void MapAuditTrail(this IEndpointRouteBuilder app) =>
        app.MapGroup("/v1/admin/audit")
            .WithTags("Audit (operator)")
            .RequireAuthorization(Policies.Admin)
            .MapGet("/", Read)
            .WithSummary("Read the audit trail: sign-ins, refusals, views and exports")
            .WithDescription(
                "Newest first: each sign-in to the dashboard or Hangfire (by key or through the identity provider), each refused sign-in "
                + "with its reason, each view of the delivery failures and each CSV export, each erasure on request. `tenant` keeps one "
                + "tenant's entries (a refused sign-in belongs to none); `limit` 1 to 1000, default 100. Kept 365 days. Never a citizen's number or a key.");

    private static async Task<Results<Ok<AuditTrailView>, ValidationProblem>> Read(
        string? tenant, int? limit, AuditTrail audit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["limit"] = [$"Must be between 1 and {MaxLimit}."] }, title: "The request has invalid fields");
        }

        var entries = await audit.ReadAsync(string.IsNullOrEmpty(tenant) ? null : tenant, limit ?? DefaultLimit, cancellationToken);
        return TypedResults.Ok(new AuditTrailView([.. entries.Select(e => new AuditEntryView(e.At, e.Tenant, e.Action, e.Actor, e.RemoteAddress, e.Detail))]));
    }
}
