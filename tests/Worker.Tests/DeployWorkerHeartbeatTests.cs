using System.Globalization;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

/// <summary>The file the Worker's container HEALTHCHECK and Kubernetes liveness probe look at.</summary>
public sealed class DeployWorkerHeartbeatTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    private readonly string file = Path.Combine(Path.GetTempPath(), $"rappel-worker-{Guid.NewGuid():N}.alive");

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        File.Delete(file);
        File.Delete(file + ".next");
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_running_worker_keeps_its_heartbeat_file_fresh()
    {
        using var host = WorkerHostTests.BuildHost(database.ConnectionString, new() { ["Health:HeartbeatFile"] = file });

        await host.StartAsync();
        try
        {
            await Eventually.UntilAsync(() => File.Exists(file), () => $"the heartbeat file {file} never written");
            var written = DateTimeOffset.Parse(await File.ReadAllTextAsync(file), CultureInfo.InvariantCulture);
            Assert.True(TimeProvider.System.GetUtcNow() - written < TimeSpan.FromMinutes(1));
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
