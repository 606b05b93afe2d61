using System.Diagnostics;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>The real Worker process, given a setting out of its range: refused in one line, exit code 1.</summary>
public sealed class WorkerRefusalTests
{
    [Theory]
    [InlineData("Worker__StopTimeout", "00:00:01")] // read when the host is built
    [InlineData("Dispatch__BatchSize", "0")] // read when the host starts
    public async Task A_setting_out_of_range_is_refused_in_one_line_with_exit_code_1(string setting, string value)
    {
        var start = new ProcessStartInfo("dotnet", [typeof(DispatchJobs).Assembly.Location])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                // Never reached: the refusal comes first.
                ["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2",
                ["Twilio__AccountSid"] = "AC0123456789abcdef0123456789abcdef",
                ["Twilio__AuthToken"] = "Zq3v9JrT0pXkLm2sWb8nYc4dHf6gAe1uQi7oRt5y",
                ["Twilio__FromNumber"] = "+33700000000",
                [setting] = value,
            },
        };
        using var worker = Process.Start(start)!;
        var output = worker.StandardOutput.ReadToEndAsync();
        var errors = worker.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            await worker.WaitForExitAsync(timeout.Token);
        }

        // Not an abort (134) with an unhandled exception's stack trace.
        var said = await output + await errors;
        Assert.True(worker.ExitCode == 1, $"exit code {worker.ExitCode}: {said}");
        Assert.DoesNotContain("Unhandled exception", said, StringComparison.Ordinal);
        var line = Assert.Single((await errors).Split('\n'), l => l.StartsWith("The Worker does not start:", StringComparison.Ordinal));
        Assert.Contains($"{setting} must be between", line, StringComparison.Ordinal);
    }
}
