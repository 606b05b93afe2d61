using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace RappelRdv.Api.Health;

internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").ExcludeFromDescription();
        group.MapGet("/live", () => TypedResults.Ok(new HealthStatus("live")));
        group.MapGet("/ready", async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> (NpgsqlDataSource db, CancellationToken cancellationToken) =>
        {
            try
            {
                await using var command = db.CreateCommand("select 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return TypedResults.Ok(new HealthStatus("ready"));
            }
            catch (NpgsqlException)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The database does not answer");
            }
        });
    }
}

/// <summary>What <c>/health/live</c> and <c>/health/ready</c> answer when all is well.</summary>
internal sealed record HealthStatus(string Status);
