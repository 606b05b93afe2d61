using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RappelRdv.Reminders.Database;

/// <summary>
/// Applies the schema at start-up, before anything else of the host runs (hosted services start in
/// the order they were added, and before Kestrel). Shared by the Api and the Worker.
/// </summary>
internal sealed class MigrationService(IConfiguration configuration, ILogger<MigrationService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Database.Migrate(Database.GetConnectionString(configuration), logger);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
