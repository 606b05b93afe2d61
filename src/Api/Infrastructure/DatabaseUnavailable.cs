using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// A request that failed because PostgreSQL is out of reach (down, restarting, paused) or because
/// the creation queue is full is a <c>503</c> with <c>Retry-After</c>, not a <c>500</c>: the caller
/// did nothing wrong, nothing was written, and the same request will succeed once the database is back.
/// </summary>
internal sealed class DatabaseUnavailable(NpgsqlDataSource db, ILogger<DatabaseUnavailable> logger) : IExceptionHandler
{
    /// <summary>Seconds a client should wait: PostgreSQL restarts in a few, the creation queue drains in less.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (title, detail) = exception switch
        {
            IntakeFullException full => ("Too many appointments are being written", full.Message),
            _ when Database.IsUnreachable(exception) => ("The database is unavailable", "PostgreSQL cannot be reached for now; nothing was changed."),
            _ => (null, null),
        };
        if (title is null || context.Response.HasStarted)
        {
            return false;
        }

        if (exception is not IntakeFullException)
        {
            // The idle connections of the pool died with the database: drop them, so that the first
            // requests after its return do not fail on them one by one.
            db.Clear();
        }

        logger.LogWarning("Answered 503 to {Method} {Path}: {Reason}", context.Request.Method, context.Request.Path.Value, exception.Message);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await context.Response.WriteAsJsonAsync(
            new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Title = title, Detail = detail },
            options: (System.Text.Json.JsonSerializerOptions?)null,
            contentType: "application/problem+json",
            cancellationToken: cancellationToken);
        return true;
    }
}
