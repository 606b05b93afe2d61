using RappelRdv.Reminders.Database;

namespace RappelRdv.Api.Operator;

/// <summary>
/// <c>dotnet RappelRdv.Api.dll --migrate-only</c>: applies the schema (ours and Hangfire's) and
/// exits, without serving. The Kubernetes migration Job runs it before a release. The Api and the
/// Worker also migrate at start-up under an advisory lock, so this is the same step made explicit:
/// a failed migration stops the rollout instead of leaving pods crash-looping. Needs only
/// <c>ConnectionStrings__Postgres</c> (it migrates through <c>ConnectionStrings__PostgresDirect</c> when that is set).
/// </summary>
internal static class MigrateOnly
{
    public const string Flag = "--migrate-only";

    public static bool IsRequested(string[] args) => args.Contains(Flag, StringComparer.OrdinalIgnoreCase);

    /// <summary>Returns the process exit code: 0 when the schema is up to date.</summary>
    public static int Run(WebApplicationBuilder builder)
    {
        using var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RappelRdv.Migrations");
        try
        {
            var connectionString = Database.GetDirectConnectionString(app.Configuration);
            Database.Migrate(connectionString, logger);
            HangfireStorage.Install(connectionString);
            logger.LogInformation("Migrations applied; exiting ({Flag})", Flag);
            return 0;
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "Migrations failed");
            return 1;
        }
    }
}
