using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;
using RappelRdv.TestSupport;
using RappelRdv.Worker.Retention;

namespace RappelRdv.Worker.Tests;

/// <summary>
/// The no-show history of the riskReminders rule within retention (docs/PRIVACY.md): when the nightly
/// retention erases the phone of a no-show the rule still looks back to, an HMAC of the number under
/// the tenant's secret stays in its place, and goes once the rule no longer needs it or on request.
/// </summary>
public sealed class RiskHistoryRetentionTests(DispatchHarness harness) : IClassFixture<DispatchHarness>, IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;

    private const string Phone = "06 12 34 56 78";

    public Task InitializeAsync() => harness.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private static TenantSettings Rule(int lookbackDays) => TestData.Settings() with
    {
        RetentionDays = 30,
        RiskReminders = new RiskReminders(1, lookbackDays, [new ReminderStep("voice", "P1D", false)], 0),
    };

    private AppointmentStore Store() => harness.BuildServices().GetRequiredService<AppointmentStore>();

    private Task<RetentionReport> RetentionAsync() =>
        new PersonalDataRetention(harness.Database.DataSource, harness.Clock, NullLogger<PersonalDataRetention>.Instance).EraseExpiredAsync(None);

    private async Task NoShowAsync(long tenantId, TenantSettings settings, string externalId, int daysAgo)
    {
        var store = Store();
        await store.UpsertAsync(tenantId, settings, externalId, TestData.Appointment(harness.Clock.GetUtcNow().AddDays(-daysAgo), Phone), None);
        Assert.Equal(WriteOutcome.Updated, (await store.SetOutcomeAsync(tenantId, externalId, Outcomes.NoShow, None)).Outcome);
    }

    private async Task<string> RiskOfNewAppointmentAsync(long tenantId, TenantSettings settings, string externalId)
    {
        var created = await Store().UpsertAsync(tenantId, settings, externalId, TestData.Appointment(harness.Clock.GetUtcNow().AddDays(5), Phone), None);
        return created.View!.Risk;
    }

    private Task<byte[]?> KeyAsync(string externalId) =>
        harness.ScalarAsync<byte[]?>("select citizen_key from appointments where external_id = @externalId", new { externalId });

    [Fact]
    public async Task A_no_show_the_rule_still_counts_keeps_a_keyed_HMAC_after_its_phone_is_erased_and_still_counts()
    {
        var (tenantId, settings) = await harness.TenantAsync(Rule(lookbackDays: 365));
        await NoShowAsync(tenantId, settings, "recent", daysAgo: 60);
        await NoShowAsync(tenantId, settings, "old", daysAgo: 400);

        await RetentionAsync();

        Assert.Null(await harness.ScalarAsync<string?>("select phone from appointments where external_id = 'recent'"));
        var historyKey = await harness.ScalarAsync<byte[]>("select history_key from tenants where id = @tenantId", new { tenantId });
        Assert.Equal(TenantSecrets.CitizenKey(historyKey, "+33612345678"), await KeyAsync("recent"));
        // Not a plain hash of the number, and no key where the rule does not look back.
        Assert.NotEqual(System.Security.Cryptography.SHA256.HashData("+33612345678"u8.ToArray()), await KeyAsync("recent"));
        Assert.Null(await KeyAsync("old"));
        Assert.Equal("targeted", await RiskOfNewAppointmentAsync(tenantId, settings, "next"));
    }

    /// <summary>A tenant with a rule and a no-show of 60 days ago, its phone erased by retention and its key kept.</summary>
    private async Task<(long TenantId, TenantSettings Settings)> KeptNoShowAsync(string externalId)
    {
        var (tenantId, settings) = await harness.TenantAsync(Rule(lookbackDays: 365));
        await NoShowAsync(tenantId, settings, externalId, daysAgo: 60);
        await RetentionAsync();
        Assert.NotNull(await KeyAsync(externalId));
        return (tenantId, settings);
    }

    [Fact]
    public async Task Keys_go_when_the_rule_no_longer_looks_back_that_far_or_is_removed_and_none_is_kept_without_a_rule()
    {
        var (tenantId, settings) = await KeptNoShowAsync("recent");
        var (otherId, _) = await KeptNoShowAsync("other");

        // A year later the no-show is beyond the lookback: its key goes.
        harness.Clock.Advance(TimeSpan.FromDays(200));
        await harness.ScalarAsync<int>("update tenants set settings = settings - 'riskReminders' where id = @otherId returning 1", new { otherId });
        await RetentionAsync();
        Assert.NotNull(await KeyAsync("recent"));
        Assert.Null(await KeyAsync("other"));
        harness.Clock.Advance(TimeSpan.FromDays(120));
        await RetentionAsync();
        Assert.Null(await KeyAsync("recent"));
        Assert.Equal("none", await RiskOfNewAppointmentAsync(tenantId, settings, "much-later"));

        var (plainId, plain) = await harness.TenantAsync(TestData.Settings() with { RetentionDays = 30 });
        await NoShowAsync(plainId, plain, "no-rule", daysAgo: 60);
        await RetentionAsync();
        Assert.Null(await KeyAsync("no-rule"));
    }

    [Fact]
    public async Task An_erasure_request_erases_the_kept_key_and_the_citizen_is_no_longer_at_risk()
    {
        var (tenantId, settings) = await KeptNoShowAsync("recent");

        Assert.Equal(1, await Store().ErasePersonalDataOfPhoneAsync(tenantId, "+33612345678", None));

        Assert.Null(await KeyAsync("recent"));
        Assert.Equal("none", await RiskOfNewAppointmentAsync(tenantId, settings, "next"));
    }
}
