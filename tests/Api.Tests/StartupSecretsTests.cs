extern alias worker;

using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using RappelRdv.Reminders.Security;
using WorkerHeartbeat = worker::RappelRdv.Worker.Health.WorkerHeartbeat;

namespace RappelRdv.Api.Tests;

/// <summary>Outside Development a placeholder or short secret stops the real processes, with one line naming the setting.</summary>
public sealed class StartupSecretsTests
{
    private const string Strong = "Zq3v9JrT0pXkLm2sWb8nYc4dHf6gAe1uQi7oRt5y";

    [Theory]
    [InlineData("Admin__ApiKey", "change-me-admin-key-at-least-16-characters", "placeholder")]
    [InlineData("Admin__ApiKey", "short-but-random-Qw3e", "shorter than 32")]
    [InlineData("Metrics__Token", "0123456789abcdef0123456789abcdef-example", "placeholder")]
    public async Task The_api_refuses_to_start_in_production(string setting, string value, string why)
    {
        var (exitCode, output) = await RunAsync(Path.Combine(AppContext.BaseDirectory, "RappelRdv.Api.dll"), "ASPNETCORE_ENVIRONMENT",
            new() { ["Admin__ApiKey"] = Strong, [setting] = value });

        Assert.NotEqual(0, exitCode);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(setting, line, StringComparison.Ordinal);
        Assert.Contains(why, line, StringComparison.Ordinal);
        Assert.DoesNotContain(value, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_refuses_a_short_twilio_auth_token_in_production()
    {
        var (exitCode, output) = await RunAsync(typeof(WorkerHeartbeat).Assembly.Location, "DOTNET_ENVIRONMENT",
            new() { ["Twilio__AccountSid"] = "AC0123456789abcdef0123456789abcdef", ["Twilio__AuthToken"] = "0123456789abcdef" });

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Twilio__AuthToken is shorter than 32 characters", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Development_accepts_short_keys_and_other_environments_accept_only_strong_ones()
    {
        var weak = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Admin:ApiKey"] = "dev-key" }).Build();
        var strong = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = Strong, ["Twilio:AuthToken"] = Strong, ["Metrics:Token"] = Strong,
        }).Build();

        Assert.Null(StartupSecrets.Refusal(weak, new Environment("Development")));
        Assert.Contains("Admin__ApiKey", StartupSecrets.Refusal(weak, new Environment("Staging")), StringComparison.Ordinal);
        Assert.Null(StartupSecrets.Refusal(strong, new Environment("Production")));
        Assert.NotNull(StartupSecrets.Weakness("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
        Assert.NotNull(StartupSecrets.Weakness("CHANGEME0123456789abcdef0123456789abcdef"));
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string dll, string environmentVariable, Dictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.Environment[environmentVariable] = "Production";
        // Nothing to reach: the refusal must come before any connection or listening socket.
        start.Environment["ConnectionStrings__Postgres"] = "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2";
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:1";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The process did not refuse to start: " + await stdout);
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "test";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
