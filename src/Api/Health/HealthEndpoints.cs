using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Api.Health;

internal static class HealthEndpoints
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(3);

    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/health").WithTags("Health").ExcludeFromDescription();
        group.MapGet("/live", () => TypedResults.Ok(new HealthStatus("live")));
        group.MapGet("/ready", async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> (NpgsqlDataSource db, HttpResponse response, CancellationToken cancellationToken) =>
        {
            // Bounded: a paused database (SIGSTOP, a network partition) must not hold the probe for the
            // pool's whole timeout.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ReadyTimeout);
            try
            {
                await using var command = db.CreateCommand("select 1");
                await command.ExecuteScalarAsync(timeout.Token);
                return TypedResults.Ok(new HealthStatus("ready"));
            }
            catch (Exception e) when (e is NpgsqlException || Database.IsUnreachable(e)
                || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                db.Clear();
                response.Headers.RetryAfter = DatabaseUnavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The database does not answer");
            }
        });
    }
}

/// <summary>What <c>/health/live</c> and <c>/health/ready</c> answer when all is well.</summary>
internal sealed record HealthStatus(string Status);
