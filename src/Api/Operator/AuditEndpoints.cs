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
            .MapGet("/", Read);

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
