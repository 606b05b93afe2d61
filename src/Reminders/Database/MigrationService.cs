using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace RappelRdv.Reminders.Database;

/// <summary>
/// Applies the schema (ours, then Hangfire's) at start-up, before anything else of the host runs
/// (hosted services start in the order they were added, and before Kestrel). Shared by the Api and
/// the Worker. A database that cannot be reached yet is waited for, every couple of seconds, rather
/// than crashing the host into a restart loop: the host starts within a retry of its return.
/// </summary>
internal sealed class MigrationService(IConfiguration configuration, TimeProvider clock, ILogger<MigrationService> logger) : IHostedService
{
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Session advisory locks: never through a transaction pooler.
        var connectionString = Database.GetDirectConnectionString(configuration);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Database.Migrate(connectionString, logger);
                HangfireStorage.Install(connectionString);
                return;
            }
            catch (Exception e) when (Database.IsUnreachable(e))
            {
                if (attempt == 1 || attempt % 15 == 0)
                {
                    logger.LogWarning("The database cannot be reached ({Reason}); waiting for it, attempt {Attempt}", e.Message, attempt);
                }

                // Cancelled when the host is stopped meanwhile (SIGTERM during the wait): then it exits cleanly.
                await Task.Delay(RetryInterval, clock, cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
