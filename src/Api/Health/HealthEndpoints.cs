using Npgsql;

namespace RappelRdv.Api.Health;

internal static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").ExcludeFromDescription();
        group.MapGet("/live", () => TypedResults.Ok(new { status = "live" }));
        group.MapGet("/ready", async Task<IResult> (NpgsqlDataSource db, CancellationToken cancellationToken) =>
        {
            try
            {
                await using var command = db.CreateCommand("select 1");
                await command.ExecuteScalarAsync(cancellationToken);
                return TypedResults.Ok(new { status = "ready" });
            }
            catch (NpgsqlException)
            {
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The database does not answer");
            }
        });
    }
}
