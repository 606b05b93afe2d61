using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Dispatch;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// A Worker whose connection string gives its data source a pool smaller than its own settings need
/// (<see cref="WorkerConnections"/>: Dispatch__Slices × (Dispatch__Groups + 2) + 4) refuses to
/// start, with a message naming the settings to change (docs/OPERATIONS.md, "PostgreSQL sizing").
/// </summary>
public sealed class WorkerConnectionsTests : IAsyncLifetime
{
    // 2 loops × (8 groups + 2) + 4; the send slots (Parallelism) hold no connection of their own.
    private static readonly Dictionary<string, string?> Settings = new() { ["Dispatch:Slices"] = "2", ["Dispatch:Groups"] = "8", ["Dispatch:Parallelism"] = "200" };

    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_pool_too_small_for_the_workers_settings_stops_its_start_with_a_message_naming_them()
    {
        using var host = WorkerHostTests.BuildHost(WithPool(23), Settings);

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        // The sizes themselves, not only the names: what the string sets and what the settings need.
        foreach (var setting in new[] { "ConnectionStrings__Postgres", "Maximum Pool Size=23", "the 24 connections", "Dispatch__Slices", "Dispatch__Groups" })
        {
            Assert.Contains(setting, refused.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_pool_that_holds_exactly_what_the_settings_need_passes_the_check()
    {
        using var fits = WorkerHostTests.BuildHost(WithPool(24), Settings);
        using var tooSmall = WorkerHostTests.BuildHost(WithPool(23), Settings);

        Assert.Equal(24, fits.Services.GetRequiredService<WorkerConnections>().DataSource);
        Assert.Equal(2, fits.Services.GetRequiredService<IOptions<DispatchOptions>>().Value.Slices);
        Assert.Throws<OptionsValidationException>(() => tooSmall.Services.GetRequiredService<IOptions<DispatchOptions>>().Value);
    }

    private string WithPool(int size) => new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = size }.ConnectionString;
}
