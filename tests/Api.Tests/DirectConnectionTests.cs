using Dapper;
using Npgsql;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The tenant listener's <c>LISTEN</c> needs a session that stays, which a transaction-mode pooler does
/// not give: it connects through <c>ConnectionStrings__PostgresDirect</c> when that is set.
/// </summary>
public sealed class DirectConnectionTests : IAsyncLifetime
{
    private readonly ApiFactory api = new();

    private readonly string direct = $"direct-{Guid.NewGuid():N}"[..20];

    public Task InitializeAsync() => ((IAsyncLifetime)api).InitializeAsync();

    public Task DisposeAsync() => ((IAsyncLifetime)api).DisposeAsync();

    [Fact]
    public async Task The_tenant_listener_listens_through_the_direct_connection_string()
    {
        api.Settings["ConnectionStrings:PostgresDirect"] =
            new NpgsqlConnectionStringBuilder(api.Database.ConnectionString) { ApplicationName = direct }.ConnectionString;

        // Starts the Api.
        using var client = api.CreateClient();

        Assert.Equal(1, await Eventually.ValueAsync(() => SessionsAsync($"{direct} tenant-listener"), count => count == 1));
    }

    private async Task<long> SessionsAsync(string applicationName)
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(
            "select count(*) from pg_stat_activity where datname = current_database() and application_name = @applicationName", new { applicationName });
    }
}
