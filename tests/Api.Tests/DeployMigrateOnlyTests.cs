using System.Diagnostics;
using Dapper;
using Npgsql;

namespace RappelRdv.Api.Tests;

/// <summary><c>dotnet RappelRdv.Api.dll --migrate-only</c>, as the Kubernetes migration Job runs it: a real process.</summary>
public sealed class DeployMigrateOnlyTests : IAsyncLifetime
{
    private readonly string serverConnectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres")
        ?? throw new InvalidOperationException("ConnectionStrings__Postgres is not set: run the tests through ./test.sh.");

    private readonly string name = $"rappel_migrate_{Guid.NewGuid():N}";

    private string ConnectionString => new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;

    public async Task InitializeAsync()
    {
        await using var server = new NpgsqlConnection(serverConnectionString);
        await server.OpenAsync();
        await server.ExecuteAsync($"create database {name}");
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var server = new NpgsqlConnection(serverConnectionString);
        await server.OpenAsync();
        await server.ExecuteAsync($"drop database if exists {name} with (force)");
    }

    [Fact]
    public async Task Migrate_only_applies_both_schemas_and_exits_without_serving()
    {
        var (exitCode, output) = await RunApiAsync("--migrate-only");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Migrations applied", output, StringComparison.Ordinal);
        await using var connection = new NpgsqlConnection(ConnectionString);
        Assert.True(await connection.ExecuteScalarAsync<long>("select count(*) from schema_versions") >= 2);
        Assert.True(await connection.ExecuteScalarAsync<int>("select version from hangfire.schema") > 0);

        // Twice is harmless: nothing left to do.
        Assert.Equal(0, (await RunApiAsync("--migrate-only")).ExitCode);
    }

    [Fact]
    public async Task Migrate_only_fails_with_a_non_zero_exit_when_the_database_is_unreachable()
    {
        var (exitCode, _) = await RunApiAsync("--migrate-only", "Host=127.0.0.1;Port=1;Database=none;Username=none;Password=none;Timeout=2");

        Assert.NotEqual(0, exitCode);
    }

    private async Task<(int ExitCode, string Output)> RunApiAsync(string argument, string? connectionString = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RappelRdv.Api.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add(argument);
        start.Environment["ConnectionStrings__Postgres"] = connectionString ?? ConnectionString;
        // No admin key and a port nobody listens on: the Api must not try to serve at all.
        start.Environment.Remove("Admin__ApiKey");
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("The Api did not exit within 90 s with --migrate-only: " + await stdout);
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
