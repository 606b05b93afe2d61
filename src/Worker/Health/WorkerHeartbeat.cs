using System.Globalization;
using Hangfire;
using Microsoft.Extensions.Options;

namespace RappelRdv.Worker.Health;

/// <summary>
/// The Worker serves no HTTP, so its health is a file: every 10 seconds, while this process's
/// Hangfire server is heartbeating in the database (which proves both the database and the server
/// alive), the time is written to <c>Health:HeartbeatFile</c>. The Docker HEALTHCHECK and the
/// Kubernetes liveness probe check that the file is less than a minute old. Unset: nothing is written.
/// </summary>
internal sealed class WorkerHeartbeat(IOptions<HealthOptions> options, JobStorage storage, TimeProvider clock, ILogger<WorkerHeartbeat> logger)
    : BackgroundService
{
    public const string FileKey = "Health:HeartbeatFile";

    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    // Hangfire beats every 30 s; two missed beats and we stop vouching for it.
    private static readonly TimeSpan ServerSilence = TimeSpan.FromSeconds(75);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var path = options.Value.HeartbeatFile;
        if (string.IsNullOrEmpty(path))
        {
            return;
        }

        // Hangfire names the server "<ServerName>:<guid>", lower-cased; ServerName is set in WorkerSetup.
        var serverPrefix = $"worker-{Environment.MachineName}-{Environment.ProcessId}:".ToLowerInvariant();
        while (!stoppingToken.IsCancellationRequested)
        {
            var alive = false;
            try
            {
                var now = clock.GetUtcNow();
                alive = storage.GetMonitoringApi().Servers().Any(s =>
                    s.Name.StartsWith(serverPrefix, StringComparison.OrdinalIgnoreCase)
                    && s.Heartbeat is { } beat && now.UtcDateTime - beat < ServerSilence);
                if (alive)
                {
                    await WriteAtomicallyAsync(path, now.ToString("O", CultureInfo.InvariantCulture), stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The file then ages, and the probe restarts us if it lasts.
                logger.LogWarning(e, "Worker heartbeat not written");
            }

            // Soon again while the server is still starting, then at the normal pace.
            await Task.Delay(alive ? Interval : TimeSpan.FromSeconds(1), clock, stoppingToken);
        }
    }

    /// <summary>
    /// Writes beside the file, then renames over it: a reader (the probe, a test) sees the old
    /// time or the new one, never the empty file a truncating write leaves for a moment.
    /// </summary>
    private static async Task WriteAtomicallyAsync(string path, string content, CancellationToken cancellationToken)
    {
        var next = path + ".next";
        await File.WriteAllTextAsync(next, content, cancellationToken);
        File.Move(next, path, overwrite: true);
    }
}

/// <summary>The <c>Health__*</c> settings of a Worker.</summary>
internal sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Where the heartbeat is written (<c>Health__HeartbeatFile</c>); unset, nothing is.</summary>
    public string? HeartbeatFile { get; set; }
}
