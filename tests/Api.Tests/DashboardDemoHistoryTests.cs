using System.Net;
using System.Net.Http.Json;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

public sealed class DashboardDemoHistoryTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private TenantKeys keys = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        keys = await api.CreateTenantAsync("demo", new { slug = "demo", name = "Démo", holdoutPercent = 10 });
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private sealed record Created(long Appointments, long Messages);

    [Fact]
    public async Task Demo_history_fills_three_months_once_with_a_visibly_worse_holdout()
    {
        var first = await api.Admin().PostAsync("/v1/admin/tenants/demo/demo-history", null);
        var again = await api.Admin().PostAsync("/v1/admin/tenants/demo/demo-history", null);
        var stats = await api.WithKey(keys.ManagerKey).GetFromJsonAsync<NoShowStats>("/v1/stats/no-show?from=2026-08-01&to=2026-11-27&by=cohort");
        var weeks = await api.WithKey(keys.ManagerKey).GetFromJsonAsync<NoShowStats>("/v1/stats/no-show?from=2026-08-24&to=2026-11-27&by=week");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var created = (await first.Content.ReadFromJsonAsync<Created>())!;
        Assert.Equal(65 * 45, created.Appointments); // 13 weeks of weekdays, 45 a day
        Assert.True(created.Messages > 2000, $"{created.Messages} messages");
        Assert.Equal(new Created(0, 0), await again.Content.ReadFromJsonAsync<Created>());
        var reminded = stats!.Rows.Single(r => r.Key == "reminded");
        var holdout = stats.Rows.Single(r => r.Key == "holdout");
        Assert.InRange(holdout.Appointments / (double)stats.Total.Appointments, 0.07, 0.13);
        Assert.True(holdout.NoShowRate > reminded.NoShowRate + 0.08, $"holdout {holdout.NoShowRate}, reminded {reminded.NoShowRate}");
        Assert.True(holdout.Honoured + holdout.NoShow >= 30);
        Assert.All(weeks!.Rows.Skip(1).SkipLast(1), week => Assert.NotNull(week.NoShowRate));
        Assert.True(weeks.Total.Unknown > 0, "the last days still have outcomes to record");
    }

    [Fact]
    public async Task Demo_history_is_for_the_operator_only()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.WithKey(keys.ApiKey).PostAsync("/v1/admin/tenants/demo/demo-history", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.Admin().PostAsync("/v1/admin/tenants/nobody/demo-history", null)).StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.NotFound)]
    [InlineData("true", HttpStatusCode.OK)]
    public async Task Outside_development_demo_history_exists_only_when_the_setting_asks_for_it(string? setting, HttpStatusCode expected)
    {
        var production = new ApiFactory();
        production.Settings["environment"] = "Production";
        if (setting is not null)
        {
            production.Settings["Demo:HistoryEndpoint"] = setting;
        }

        await production.InitializeAsync();
        try
        {
            await production.CreateTenantAsync("demo", new { slug = "demo", name = "Démo" });

            var response = await production.Admin().PostAsync("/v1/admin/tenants/demo/demo-history", null);

            Assert.Equal(expected, response.StatusCode);
        }
        finally
        {
            await ((IAsyncLifetime)production).DisposeAsync();
        }
    }
}
