using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace RappelRdv.Worker.Hosting;

/// <summary>
/// How long a stopping Worker may take (<c>Worker__StopTimeout</c>), and the Worker's run up to its stop.
/// On SIGTERM the host stops its services one after the other: the claim loops first (they stop claiming
/// and wait for the requests already sent, each bounded by <c>Twilio__RequestTimeout</c> or
/// <c>Events__AttemptTimeout</c>), the Worker's number, then Hangfire, which waits for its running jobs.
/// Half of the time is Hangfire's, the other half the loops'; the deploy files give the process 60 s
/// before they kill it, more than the default 45 s.
/// </summary>
internal sealed class WorkerStopOptions
{
    public const string Section = "Worker";

    [Range(typeof(TimeSpan), "00:00:02", "00:10:00", ErrorMessage = "Worker__StopTimeout must be between 00:00:02 and 00:10:00.")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long Hangfire's stop waits for its running jobs before it cancels them (they are queued again at once).</summary>
    public TimeSpan HangfireShutdownTimeout => StopTimeout / 2;
}

internal static class WorkerStop
{
    /// <summary>
    /// Builds and runs the host until it is stopped, and says how it ended: 0 after a stop within
    /// <c>Worker__StopTimeout</c>; 1 when a setting is refused at start (one line on standard error per
    /// refusal, naming the setting) or when the stop outlasted the timeout. The host then cancels what is
    /// still stopping (Hangfire's stop throws); either exception would otherwise end the process in an
    /// abort (exit 134, a core dump and a stack trace). What a Worker cut short still held is not lost: its
    /// number goes with the process, and the other Workers take its claims back at once
    /// (docs/ARCHITECTURE.md, "A claimer that is gone").
    /// </summary>
    public static async Task<int> RunAsync(HostApplicationBuilder builder)
    {
        IHost host;
        try
        {
            host = builder.Build();
        }
        catch (OptionsValidationException e)
        {
            return Refused(e);
        }

        await using var disposal = host as IAsyncDisposable;
        try
        {
            await host.StartAsync();
        }
        catch (OptionsValidationException e)
        {
            return Refused(e);
        }

        var stopping = host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
        try
        {
            await host.WaitForShutdownAsync();
            return 0;
        }
        catch (Exception e) when (stopping.IsCancellationRequested)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WorkerStop));
            if (CutShort(e))
            {
                var timeout = host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout;
                logger.LogError(
                    "The Worker's stop outlasted Worker__StopTimeout ({StopTimeout} s) and was cut short ({Error}); "
                    + "what it still held is taken back by the other Workers at once",
                    timeout.TotalSeconds, e.GetBaseException().Message);
            }
            else
            {
                logger.LogError(e, "The Worker's stop failed; what it still held is taken back by the other Workers at once");
            }

            return 1;
        }
    }

    /// <summary>The stop's exceptions are the host's cancellation at the timeout, and nothing else.</summary>
    private static bool CutShort(Exception e) => e switch
    {
        AggregateException all => all.InnerExceptions.All(CutShort),
        _ => e is OperationCanceledException,
    };

    private static int Refused(OptionsValidationException refusal)
    {
        foreach (var failure in refusal.Failures)
        {
            Console.Error.WriteLine($"The Worker does not start: {failure}");
        }

        return 1;
    }
}
