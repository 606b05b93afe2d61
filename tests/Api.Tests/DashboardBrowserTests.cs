using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Deque.AxeCore.Playwright;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The Api on a real Kestrel port, and the machine's Chromium driven by Playwright (never
/// "playwright install": test.sh installs the distribution's chromium when it is missing).
/// </summary>
public sealed class DashboardBrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? playwright;

    public ApiFactory Api { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)Api).InitializeAsync();
        Api.Settings["urls"] = "http://127.0.0.1:0";
        Api.UseKestrel();
        Api.StartServer();
        BaseUrl = Api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
        await ((IAsyncLifetime)Api).DisposeAsync();
    }
}

public sealed class DashboardBrowserTests(DashboardBrowserFixture fixture) : IClassFixture<DashboardBrowserFixture>, IAsyncLifetime
{
    private TenantKeys keys = null!;

    /// <summary>The demo tenant's wording trial: B names what an absence costs.</summary>
    private const string TrialTexts =
        """
        {"experiment":{"name":"cout-absence","variants":{"A":{},"C":{},
          "B":{"fr":{"reminder":"{service} le {day} à {time}, {place}. Une absence non prévenue retarde votre dossier. OUI pour confirmer, NON pour annuler, 3 pour reporter."}}}}}
        """;

    public async Task InitializeAsync()
    {
        var api = fixture.Api;
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        using var admin = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
        var created = await admin.PostAsync("/v1/admin/tenants", JsonContent(
            """
            {"slug":"demo","name":"Département de démonstration","timeZone":"Europe/Paris","holdoutPercent":10,
             "texts":
            """ + TrialTexts + "}"));
        created.EnsureSuccessStatusCode();
        keys = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<TenantKeys>(created.Content))!;
        (await admin.PostAsync("/v1/admin/tenants/demo/demo-history", null)).EnsureSuccessStatusCode();

        // A budget the demo's November has used nine tenths of: the usage section is shown with its warning, and checked by axe-core.
        using var manager = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        manager.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", keys.ManagerKey);
        var usage = (await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<UsageReport>(manager, "/v1/usage?month=2026-11"))!;
        Assert.True(usage.Sms.Segments > 0);
        (await admin.PutAsync("/v1/admin/tenants/demo", JsonContent(
            $$$"""
            {"slug":"demo","name":"Département de démonstration","timeZone":"Europe/Paris","holdoutPercent":10,
             "texts":{{{TrialTexts}}},"budget":{"monthlySegments":{{{usage.Sms.Segments * 10 / 9}}},"monthlyCallMinutes":500}}
            """))).EnsureSuccessStatusCode();
        await DrawTrialAsync();
    }

    /// <summary>
    /// The demo history has no trial: these appointments are drawn as if one had run since 28
    /// September with A and B, C added on 25 November (too few yet to judge), and B's wording made
    /// to work (half its no-shows came), so that the page shows each verdict.
    /// </summary>
    private async Task DrawTrialAsync()
    {
        await using var connection = await fixture.Api.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            """
            update appointments set variant = case
                when starts_at >= '2026-11-25' then (array['A', 'B', 'C'])[1 + ('x' || substr(md5(external_id || ':v'), 1, 8))::bit(32)::bigint % 3]
                else (array['A', 'B'])[1 + ('x' || substr(md5(external_id || ':v'), 1, 8))::bit(32)::bigint % 2] end
            where source = 'demo' and starts_at >= '2026-09-28';
            update appointments set outcome = 'honoured'
            where source = 'demo' and variant = 'B' and outcome = 'no_show' and not holdout and md5(external_id || ':w') < '8';
            """);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_manager_logs_in_reads_the_charts_changes_the_period_downloads_the_CSV_and_logs_out()
    {
        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.BaseUrl,
            AcceptDownloads = true,
            Locale = "fr-FR",
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add($"{message.Text} ({message.Location})");
            }
        };

        // Not logged in: the login form, nothing else.
        await page.GotoAsync("/dashboard");
        Assert.EndsWith("/dashboard/login", page.Url);
        Assert.DoesNotContain("Taux d'absence", await page.ContentAsync());

        Assert.Empty((await page.RunAxe()).Violations);
        await page.GetByLabel("Clé de gestion").FillAsync(keys.ManagerKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard$"));
        Assert.DoesNotContain(keys.ManagerKey, page.Url);

        // The chart and its table.
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Absences aux rendez-vous", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "Taux d'absence par semaine" })).ToBeVisibleAsync();
        var weeks = page.GetByRole(AriaRole.Table, new() { Name = "Détail : taux d'absence par semaine" });
        await Assertions.Expect(weeks).ToBeVisibleAsync();
        await Assertions.Expect(weeks.Locator("tbody tr")).ToHaveCountAsync(13); // this week and the 12 before
        await Assertions.Expect(page.GetByText("La différence est statistiquement significative")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Échecs d'envoi récents" })).ToBeVisibleAsync();
        var usage = page.Locator("section[aria-labelledby=consommation]");
        await Assertions.Expect(usage.GetByRole(AriaRole.Heading, new() { Name = "Consommation et budget – novembre 2026" })).ToBeVisibleAsync();
        await Assertions.Expect(usage.Locator(".gauge.warning")).ToContainTextAsync("Alerte : 80\u00A0% atteints.");
        await Assertions.Expect(usage.GetByRole(AriaRole.Table, new() { Name = "Messages envoyés par type, novembre 2026" })).ToBeVisibleAsync();

        // The wording trial, each variant against the reference.
        var trial = page.GetByRole(AriaRole.Table, new() { Name = "Détail : essai de formulation des rappels" });
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new() { Name = "Taux d'absence par variante de formulation" })).ToBeVisibleAsync();
        await Assertions.Expect(trial.Locator("tbody tr")).ToHaveCountAsync(3);
        await Assertions.Expect(trial.GetByRole(AriaRole.Row, new() { Name = "Variante B" })).ToContainTextAsync("Significativement plus bas que la variante de référence");
        await Assertions.Expect(trial.GetByRole(AriaRole.Row, new() { Name = "Variante C" })).ToContainTextAsync("Échantillon trop petit pour conclure");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "dans chaque variante (pas encore : C)" })).ToBeVisibleAsync();

        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.Equal("/dashboard", cookie.Path);
        Assert.DoesNotContain(keys.ManagerKey, cookie.Value);

        // axe-core (the accessibility engine) finds nothing to report on the whole page.
        var axe = await page.RunAxe();
        Assert.True(axe.Violations.Length == 0, string.Join("\n", axe.Violations.Select(v => $"{v.Id}: {v.Help} ({v.Nodes.Length})")));
        Assert.NotEmpty(axe.Passes);

        await SaveScreenshotAsync(page);

        // Another period, chosen with the form.
        await page.Locator("#from").FillAsync("2026-10-05");
        await page.Locator("#to").FillAsync("2026-10-18");
        await page.GetByRole(AriaRole.Button, new() { Name = "Afficher" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/dashboard\?from=2026-10-05&to=2026-10-18$"));
        await Assertions.Expect(weeks.Locator("tbody tr")).ToHaveCountAsync(2);
        await Assertions.Expect(weeks.Locator("tbody tr").First.Locator("th")).ToHaveTextAsync("S41 · 5 oct.");

        // The CSV of that period.
        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.Locator("section[aria-labelledby=semaines]").GetByRole(AriaRole.Link, new() { Name = "Télécharger ce tableau (CSV, Excel)" }).ClickAsync());
        Assert.Equal("absences_2026-10-05_2026-10-18_week.csv", download.SuggestedFilename);
        var bytes = await File.ReadAllBytesAsync((await download.PathAsync())!);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        var lines = Encoding.UTF8.GetString(bytes, 3, bytes.Length - 3).Split("\r\n");
        Assert.Equal("Clé;Semaine;Rendez-vous;Honorés;Absents;Excusés;Annulés;Sans issue;Taux d'absence", lines[0]);
        Assert.StartsWith("2026-W41;semaine du 5 oct. 2026;225;", lines[1]);
        Assert.Matches(@";0,\d{4}$", lines[1]);
        Assert.StartsWith("Total;du 05/10/2026 au 18/10/2026;450;", lines[3]);

        // An earlier month, chosen with the usage section's own form: the period stays.
        await page.Locator("#mois").SelectOptionAsync("2026-10");
        await page.GetByRole(AriaRole.Button, new() { Name = "Voir ce mois" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/dashboard\?from=2026-10-05&to=2026-10-18&mois=2026-10#consommation$"));
        await Assertions.Expect(usage.GetByRole(AriaRole.Heading, new() { Name = "Consommation et budget – octobre 2026" })).ToBeVisibleAsync();
        await Assertions.Expect(weeks.Locator("tbody tr")).ToHaveCountAsync(2);

        // Logging out: the cookie is gone, and so is the data.
        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/dashboard/login$"));
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        await page.GotoAsync("/dashboard?from=2026-10-05&to=2026-10-18");
        Assert.EndsWith("/dashboard/login", page.Url);
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors)); // among others, no Content-Security-Policy violation
    }

    [Fact]
    public async Task A_browser_without_the_cookie_gets_no_data_not_even_the_CSV()
    {
        await using var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseUrl });
        var page = await context.NewPageAsync();

        var response = await page.GotoAsync("/dashboard/export.csv?from=2026-10-05&to=2026-10-18&by=week");

        Assert.EndsWith("/dashboard/login", page.Url);
        Assert.Equal("text/html; charset=utf-8", response!.Headers["content-type"]);
        Assert.DoesNotContain("2026-W41", await page.ContentAsync());
        Assert.Equal(401, (await page.APIRequest.GetAsync("/v1/stats/no-show?from=2026-10-05&to=2026-10-18")).Status);
    }

    /// <summary>Into the test's output, and into docs/ when DASHBOARD_SCREENSHOT names a file (see docs/statistics.md, /dashboard).</summary>
    private static async Task SaveScreenshotAsync(IPage page)
    {
        var bytes = await page.ScreenshotAsync(new PageScreenshotOptions { FullPage = true });
        await File.WriteAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "dashboard.png"), bytes);
        if (Environment.GetEnvironmentVariable("DASHBOARD_SCREENSHOT") is { Length: > 0 } path)
        {
            await File.WriteAllBytesAsync(path, bytes);
        }
    }
}
