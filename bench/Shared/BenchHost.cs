using System.Diagnostics;
using System.Globalization;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Npgsql;

// Shared by the benchmarks that time the real Api host in process (bench/Stats, bench/Usage): each
// project compiles this file.
namespace RappelRdv.Bench;

internal sealed record Summary(double P50, double P95, double Max);

internal static class BenchTools
{
    /// <summary>Runs <paramref name="run"/> <paramref name="warmup"/> times, then <paramref name="runs"/> times timed.</summary>
    public static async Task<Summary> TimeAsync(int runs, Func<Task> run, int warmup = 20)
    {
        for (var i = 0; i < warmup; i++)
        {
            await run();
        }

        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await run();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        return Summarize(times);
    }

    public static Summary Summarize(List<double> times)
    {
        times.Sort();
        return new Summary(times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.95) - 1], times[^1]);
    }

    public static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>Drops and creates the bench's own database on the server; returns its connection string.</summary>
    public static async Task<string> FreshDatabaseAsync(string server, string database)
    {
        await using (var admin = new NpgsqlConnection(server))
        {
            await admin.ExecuteAsync($"drop database if exists {database} with (force)");
            await admin.ExecuteAsync($"create database {database}");
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = database }.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string server, string database)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(server);
        await admin.ExecuteAsync($"drop database if exists {database} with (force)");
    }
}

/// <summary>The Api, in this process, on the bench database, with its background services running.</summary>
internal sealed class BenchHost(string connectionString, string adminKey, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(AppContext.BaseDirectory);
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:Postgres", connectionString);
        builder.UseSetting("Admin:ApiKey", adminKey);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }
    }
}
