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
            .WithDescription("`from` and `to` (required) are dates, YYYY-MM-DD, both included, at most "
                + $"{NoShowQuery.MaxYears} years apart. `by` is one of {string.Join(", ", NoShowQuery.Breakdowns.Select(b => $"`{b}`"))} (default `week`). "
                + "`noShowRate` is noShow / (honoured + noShow), null when both are zero.");
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
