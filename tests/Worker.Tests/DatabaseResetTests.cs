using Dapper;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Reminders.Appointments;
using RappelRdv.TestSupport;

namespace RappelRdv.Worker.Tests;

/// <summary>The reset every test starts from (<see cref="PostgresDatabase.ResetAsync"/>): nothing a test wrote survives it.</summary>
public sealed class DatabaseResetTests(DispatchHarness harness) : IClassFixture<DispatchHarness>
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Reset_empties_every_table_of_the_product_even_those_its_delete_triggers_write_to_and_restarts_identities()
    {
        await harness.ResetAsync();
        var (tenantId, settings) = await harness.TenantAsync();
        var store = harness.BuildServices().GetRequiredService<AppointmentStore>();
        await store.UpsertAsync(tenantId, settings, "rdv-1", TestData.Appointment(harness.Clock.GetUtcNow().AddDays(3)), None);
        await store.CancelByServiceAsync(tenantId, settings, "rdv-1", None);
        Assert.True(await harness.ScalarAsync<long>("select count(*) from messages") > 0);
        Assert.True(await harness.ScalarAsync<long>("select count(*) from appointment_stat_changes") > 0);

        await harness.ResetAsync();

        // Every table of the schema, read from the catalog: one a new migration adds is checked too.
        await using var connection = await harness.Database.DataSource.OpenConnectionAsync();
        var tables = (await connection.QueryAsync<string>(
            """
            select tablename from pg_tables
            where schemaname = 'public' and tablename not in ('schema_versions', 'data_protection_keys')
            order by tablename
            """)).ToList();
        Assert.Contains("appointments", tables);
        foreach (var table in tables)
        {
            Assert.True(await harness.ScalarAsync<long>($"select count(*) from {table}") == 0, $"{table} is not empty after a reset");
        }

        var (again, _) = await harness.TenantAsync();
        Assert.Equal(1, again);
    }
}
