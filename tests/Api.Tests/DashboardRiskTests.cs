using System.Net.Http.Json;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>The dashboard compares the riskReminders rule's targeted with its held out as it compares reminded with holdout.</summary>
public sealed class DashboardRiskTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>The section alone, so that a figure elsewhere on the page cannot answer for it.</summary>
    private static string Section(string html)
    {
        var start = html.IndexOf("<section aria-labelledby=\"ciblage\">", StringComparison.Ordinal);
        Assert.True(start >= 0, "no section of the extra reminder");
        // The section, then the rule's hint, then the verdict.
        var hintEnd = html.IndexOf("</p>", html.IndexOf("</section>", start, StringComparison.Ordinal), StringComparison.Ordinal);
        return html[start..html.IndexOf("</p>", hintEnd + 1, StringComparison.Ordinal)];
    }

    [Fact]
    public async Task The_demo_history_sets_a_rule_and_the_section_compares_targeted_with_held_out()
    {
        var keys = await api.CreateTenantAsync("demo", new { slug = "demo", name = "Démo", holdoutPercent = 10 });
        (await api.Admin().PostAsync("/v1/admin/tenants/demo/demo-history", null)).EnsureSuccessStatusCode();

        var rule = (await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/demo"))!.RiskReminders;
        var byRisk = (await api.WithKey(keys.ManagerKey).GetFromJsonAsync<NoShowStats>("/v1/stats/no-show?from=2026-08-01&to=2026-11-27&by=risk"))!;
        var section = Section(await DashboardPages.GetAsync(api, keys.ManagerKey));

        Assert.Equal((1, 365, 30), (rule!.MinNoShows, rule.LookbackDays, rule.HoldoutPercent));
        var targeted = byRisk.Rows.Single(r => r.Key == "targeted");
        var heldOut = byRisk.Rows.Single(r => r.Key == "held_out");
        Assert.True(heldOut.Honoured + heldOut.NoShow >= 30, $"held out: {heldOut.Honoured + heldOut.NoShow} decided");
        Assert.True(heldOut.NoShowRate > targeted.NoShowRate, $"held out {heldOut.NoShowRate}, targeted {targeted.NoShowRate}");
        Assert.Contains("Rappel supplémentaire pour les personnes déjà absentes", section);
        Assert.Contains("reçoit en plus un appel 1 jour avant ; 30\u00A0% d'entre elles", section);
        Assert.Contains("Parmi les personnes déjà absentes, avec le rappel supplémentaire le taux d'absence est de", section);
        Assert.Contains("p ", section);
        Assert.DoesNotContain("Trop tôt pour conclure", section);
    }

    [Fact]
    public async Task While_the_groups_are_small_it_is_too_early_to_conclude_and_without_a_rule_or_draws_there_is_no_section()
    {
        var plain = await api.CreateTenantAsync("plain", new { slug = "plain", name = "Sans règle" });
        Assert.DoesNotContain("aria-labelledby=\"ciblage\"", await DashboardPages.GetAsync(api, plain.ManagerKey));

        var keys = await api.CreateTenantAsync("var", new
        {
            slug = "var", name = "Var", quietHours = (object?)null,
            riskReminders = new { minNoShows = 1, lookbackDays = 365, add = new[] { new { channel = "voice", before = "P1D" } }, holdoutPercent = 50 },
        });
        var agenda = api.WithKey(keys.ApiKey);
        Assert.Contains("Aucun rendez-vous de personne déjà absente sur la période", Section(await DashboardPages.GetAsync(api, keys.ManagerKey)));

        // 20 fair draws: both groups have some but for a chance of 2 in a million; each far below 30 decided.
        for (var i = 0; i < 20; i++)
        {
            var phone = $"06 70 00 00 {i:00}";
            (await agenda.PutAsJsonAsync($"/v1/appointments/past-{i}", new { startsAt = "2026-11-02T09:30:00+01:00", citizen = new { phone } })).EnsureSuccessStatusCode();
            (await agenda.PostAsJsonAsync($"/v1/appointments/past-{i}/outcome", new { outcome = "no_show" })).EnsureSuccessStatusCode();
            (await agenda.PutAsJsonAsync($"/v1/appointments/next-{i}", new { startsAt = "2026-11-27T14:30:00+01:00", citizen = new { phone } })).EnsureSuccessStatusCode();
        }

        var section = Section(await DashboardPages.GetAsync(api, keys.ManagerKey));
        Assert.Contains("Trop tôt pour conclure : il faut au moins 30 rendez-vous honorés ou manqués dans chaque groupe", section);
        Assert.Contains("Règle en vigueur : une personne absente au moins 1 fois", section);
    }
}
