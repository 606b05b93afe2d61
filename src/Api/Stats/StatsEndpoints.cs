using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Stats;

/// <summary>The managers' statistics: the no-show rate by period or by breakdown.</summary>
internal static class StatsEndpoints
{
    public static void MapStatistics(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/stats")
            .WithTags("Statistics (managers)")
            .RequireAuthorization(Policies.Manager);

        group.MapGet("/no-show", NoShow)
            .WithName("GetNoShowStatistics")
            .WithSummary("The no-show rate, by period or by breakdown")
            .WithDescription("`from` and `to` are dates (YYYY-MM-DD) in the tenant's time zone, both included (default: the last 30 days). "
                + "`by` is `week` (default), `month`, `service`, `location`, `channel` or `holdout`. `noShowRate` is no-shows over "
                + "appointments with a known outcome, cancellations left out; null when there are none.");
    }

    private static async Task<Results<Ok<NoShowStats>, ValidationProblem>> NoShow(
        string? from, string? to, string? by, ClaimsPrincipal user, NoShowStatistics statistics, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var query = NoShowQuery.Parse(from, to, by, errors);
        if (query is null)
        {
            return errors.ToResult();
        }

        return TypedResults.Ok(await statistics.ComputeAsync(user.TenantId(), query, cancellationToken));
    }
}
