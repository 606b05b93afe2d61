using RappelRdv.Reminders.Database;

namespace RappelRdv.Api.Infrastructure;

/// <summary>Applies the schema before the Api serves anything (hosted services start before Kestrel).</summary>
internal sealed class MigrationService(IConfiguration configuration, ILogger<MigrationService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Database.Migrate(Database.GetConnectionString(configuration), logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
