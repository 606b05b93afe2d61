using Hangfire;
using Hangfire.Logging;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Database;

namespace RappelRdv.Reminders.Tests;

/// <summary>
/// Hangfire logs through one static provider per process, set by the last host that started. A host
/// that stops must not leave it unusable for the Hangfire classes that create their loggers later
/// (in the suite, a stress run lost the whole Api test project to
/// <c>PostgreSqlObjectsInstaller</c>'s type initializer throwing <see cref="ObjectDisposedException"/>).
/// </summary>
public sealed class HangfireLoggingTests
{
    [Fact]
    public void A_logger_asked_for_after_the_host_stopped_is_silent_rather_than_an_exception()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = "Host=127.0.0.1;Database=unused" })
            .Build();
        var services = new ServiceCollection().AddLogging().AddRappelHangfire(configuration);
        var host = services.BuildServiceProvider();
        // What a starting host does: Hangfire's configuration, with its log provider, is applied.
        host.GetRequiredService<IGlobalConfiguration>();
        Assert.NotNull(LogProvider.GetLogger("before the stop"));

        host.Dispose();

        var late = LogProvider.GetLogger("a Hangfire class initialised after the stop");
        Assert.False(late.Log(Hangfire.Logging.LogLevel.Error, () => "nobody hears this"));
    }
}
