using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker.Tests;

/// <summary>The audit trail (sign-ins, views, exports) is kept a year: the daily retention job deletes what is older.</summary>
public sealed class AuditRetentionTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_retention_job_deletes_audit_rows_older_than_a_year_and_keeps_the_others()
    {
        var (tenantId, _) = await harness.TenantAsync(TestData.Settings());
        var now = harness.Clock.GetUtcNow();
        await using (var connection = await harness.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                insert into audit (at, tenant_id, action, actor) values
                    (@old, @tenantId, 'sign_in', 'old@var.fr'),
                    (@recent, @tenantId, 'sign_in', 'recent@var.fr'),
                    (@old, null, 'operator_sign_in', 'adminKey')
                """,
                new { tenantId, old = now - TimeSpan.FromDays(366), recent = now - TimeSpan.FromDays(364) });
        }

        await new PersonalDataRetention(harness.Database.DataSource, harness.Clock, NullLogger<PersonalDataRetention>.Instance)
            .EraseExpiredAsync(CancellationToken.None);

        await using var check = await harness.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(["recent@var.fr"], await check.QueryAsync<string>("select actor from audit"));
    }
}
