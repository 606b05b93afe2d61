using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using RappelRdv.Api.Tests.Oidc;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The Api on a real port with <c>Oidc__*</c> pointing at a real OpenID provider (OpenIddict, <see cref="TestOpenIdProvider"/>),
/// the machine's Chromium in between: what a manager does, and what an attacker tries.
/// </summary>
public sealed class OidcBrowserFixture : IAsyncLifetime
{
    private IPlaywright? playwright;

    public ApiFactory Api { get; } = new();

    public TestOpenIdProvider Provider { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public string BaseUrl { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Provider = await TestOpenIdProvider.StartAsync();
        await ((IAsyncLifetime)Api).InitializeAsync();
        // PublicBaseUrl is the callback's base, registered at the provider: the port is chosen before the Api starts.
        BaseUrl = $"http://127.0.0.1:{FreePort()}";
        Provider.ClientBaseUrl = BaseUrl;
        Api.Settings["urls"] = BaseUrl;
        Api.Settings["PublicBaseUrl"] = BaseUrl;
        Api.Settings["Oidc:Authority"] = Provider.Authority;
        Api.Settings["Oidc:ClientId"] = TestOpenIdProvider.ClientId;
        Api.Settings["Oidc:ClientSecret"] = TestOpenIdProvider.ClientSecret;
        Api.Settings["Oidc:RequireHttpsMetadata"] = "false";
        Api.Settings["Oidc:Operators:0"] = "ops@rappel.test";
        // The browser keeps cookies by the real clock (the provider's correlation cookie has an absolute expiry).
        Api.Clock.SetUtcNow(TimeProvider.System.GetUtcNow());
        Api.UseKestrel();
        Api.StartServer();

        // Once through the sign-in's first hop before any browser: the Api reads the provider's discovery document
        // and keys, both hosts compile their paths; on a loaded machine that first time is slow.
        // A 503 (the database, shared with the whole suite, slow to give a first connection) is retried after its
        // Retry-After, as any client of the service would. So is a 500: under CPU stress one run in about twenty
        // had this first hop fail with a 500 whose cause was not kept; if it persists, the Api's errors are shown.
        using (var warmUp = new HttpClient())
        {
            for (var attempt = 1; ; attempt++)
            {
                using var answer = await warmUp.GetAsync($"{BaseUrl}/dashboard/signin");
                if ((int)answer.StatusCode < 500)
                {
                    answer.EnsureSuccessStatusCode();
                    break;
                }

                if (attempt == 5)
                {
                    var errors = Api.Log.Lines.Where(l => l.Contains("Error", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)).TakeLast(10);
                    throw new HttpRequestException(
                        $"GET /dashboard/signin answered {(int)answer.StatusCode} five times; the Api logged:\n{string.Join("\n", errors)}");
                }

                await Task.Delay(answer.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(5));
            }
        }

        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = DashboardBrowserFixture.ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        playwright?.Dispose();
        await ((IAsyncLifetime)Api).DisposeAsync();
        await Provider.DisposeAsync();
    }
}

public sealed class OidcSignInBrowserTests(OidcBrowserFixture fixture) : IClassFixture<OidcBrowserFixture>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await fixture.Api.Database.ResetAsync();
        using var admin = Admin();
        foreach (var (slug, name, managers) in new[]
                 {
                     ("var", "Département du Var", new[] { "agent@var.fr", "both@var.fr" }),
                     ("alpes", "Alpes-Maritimes", new[] { "both@var.fr" }),
                 })
        {
            (await admin.PostAsJsonAsync("/v1/admin/tenants", new { slug, name, managers })).EnsureSuccessStatusCode();
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private HttpClient Admin()
    {
        var admin = new HttpClient { BaseAddress = new Uri(fixture.BaseUrl) };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
        return admin;
    }

    private async Task<IBrowserContext> NewContextAsync()
    {
        var context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseUrl, Locale = "fr-FR" });
        // Patience, not a measure: two hosts and a browser share two cores with the rest of the suite.
        context.SetDefaultTimeout(60_000);
        context.SetDefaultNavigationTimeout(60_000);
        return context;
    }

    /// <summary>From the dashboard's login page to the provider's, and signs in there as <paramref name="email"/>.</summary>
    private static async Task SignInAtProviderAsync(IPage page, string email)
    {
        await page.GotoAsync("/dashboard");
        await page.GetByRole(AriaRole.Link, new() { Name = "Se connecter avec ProConnect" }).ClickAsync();
        await TypeAtProviderAsync(page, email);
    }

    /// <summary>
    /// Types the address at the provider's form, whatever it holds: a provider that lets people set
    /// their own address takes look-alike characters, which Chromium's <c>type="email"</c> would stop.
    /// </summary>
    private static async Task TypeAtProviderAsync(IPage page, string email)
    {
        await page.Locator("#login_email").EvaluateAsync("e => e.type = 'text'");
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    [Fact]
    public async Task A_manager_signs_in_at_the_provider_sees_their_tenant_and_signs_out_there_too()
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();
        var consoleErrors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                consoleErrors.Add(message.Text);
            }
        };

        await SignInAtProviderAsync(page, "Agent@var.fr");

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/dashboard$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Absences aux rendez-vous", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Département du Var");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("agent@var.fr");
        var session = Assert.Single(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);
        Assert.DoesNotContain("agent", session.Value, StringComparison.Ordinal); // encrypted, not just signed
        Assert.Empty((await page.RunAxe()).Violations);

        using var admin = Admin();
        var trail = (await admin.GetFromJsonAsync<AuditTrailView>("/v1/admin/audit?tenant=var"))!;
        var signIn = Assert.Single(trail.Entries);
        Assert.Equal(("sign_in", "agent@var.fr", "127.0.0.1"), (signIn.Action, signIn.Actor, signIn.RemoteAddress));

        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/dashboard/login$"));
        Assert.Contains("Agent@var.fr", fixture.Provider.EndedSessions); // the id_token_hint the provider was given
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        await page.GotoAsync("/dashboard");
        Assert.EndsWith("/dashboard/login", page.Url);
        Assert.True(consoleErrors.Count == 0, string.Join("\n", consoleErrors)); // no Content-Security-Policy violation on the way
    }

    [Fact]
    public async Task A_person_in_no_managers_list_is_refused_politely_and_gets_no_session()
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();

        await SignInAtProviderAsync(page, "stranger@example.fr");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Accès non autorisé" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("demandez à l'opérateur du service")).ToBeVisibleAsync();
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name is "rappel_manager" or "rappel_oidc");
        Assert.Empty((await page.RunAxe()).Violations);
        await page.GotoAsync("/dashboard");
        Assert.EndsWith("/dashboard/login", page.Url);
    }

    [Fact]
    public async Task A_manager_of_two_tenants_chooses_one()
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();

        await SignInAtProviderAsync(page, "both@var.fr");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Choisir une structure" })).ToBeVisibleAsync();
        await page.GotoAsync("/dashboard");   // no tenant chosen yet: back to the choice, no data
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/dashboard/choose$"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Ouvrir Alpes-Maritimes" }).ClickAsync();

        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/dashboard$"));
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Alpes-Maritimes");
    }

    [Fact]
    public async Task A_wrong_state_an_altered_code_or_a_tampered_id_token_opens_no_session()
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();

        foreach (var alter in new Func<string, string>[]
                 {
                     url => Regex.Replace(url, "state=[^&]+", "state=CfDJ8forged"),
                     url => Regex.Replace(url, "code=([^&]+)", m => "code=" + m.Groups[1].Value[..^4] + "AAAA"),
                 })
        {
            // The provider's answer is caught on its way back, altered, then delivered.
            // (A redirect is never routed: the provider's answer to its own form is fetched here instead, and kept.)
            string? callback = null;
            await page.RouteAsync(new Regex("/connect/authorize\\?.*login_email="), async route =>
            {
                var answer = await route.FetchAsync(new() { MaxRedirects = 0 });
                callback = answer.Headers["location"];
                await route.FulfillAsync(new() { Status = 200, ContentType = "text/plain", Body = "caught" });
            });
            await SignInAtProviderAsync(page, "agent@var.fr");
            await page.UnrouteAllAsync();
            Assert.NotNull(callback);

            await page.GotoAsync(alter(callback));

            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/dashboard/login\\?echec=oidc$"));
            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("n'a pas abouti");
            Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        }

        fixture.Provider.TamperWithNextIdToken = true;
        await SignInAtProviderAsync(page, "agent@var.fr");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/dashboard/login\\?echec=oidc$"));
        Assert.False(fixture.Provider.TamperWithNextIdToken);
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        using var admin = Admin();
        Assert.Empty((await admin.GetFromJsonAsync<AuditTrailView>("/v1/admin/audit?tenant=var"))!.Entries);
    }

    [Fact]
    public async Task An_operator_in_Oidc_Operators_opens_Hangfire_and_nobody_else_does()
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/hangfire");
        await page.GetByRole(AriaRole.Link, new() { Name = "Se connecter avec le fournisseur d'identité" }).ClickAsync();
        await page.GetByLabel("E-mail").FillAsync("agent@var.fr");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("liste des opérateurs");

        await page.GotoAsync("/hangfire/signin");
        await page.GetByLabel("E-mail").FillAsync("ops@rappel.test");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/hangfire$"));
        await Assertions.Expect(page.GetByText("RappelRdv — tâches Hangfire").First).ToBeVisibleAsync();
    }

    [Theory]
    [InlineData("false", "email_verified is false")]
    [InlineData("missing", "email_verified is missing")]
    public async Task An_address_the_provider_does_not_vouch_for_is_refused_politely_audited_and_opens_nothing(string verified, string reason)
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();
        fixture.Provider.NextEmailVerified = verified;

        await SignInAtProviderAsync(page, "agent@var.fr");   // a listed manager's address, typed by anyone

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Accès non autorisé" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("n'a pas confirmé cette adresse")).ToBeVisibleAsync();
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name is "rappel_manager" or "rappel_oidc");
        using var admin = Admin();
        var refusal = Assert.Single((await admin.GetFromJsonAsync<AuditTrailView>("/v1/admin/audit"))!.Entries);
        Assert.Equal(("sign_in_refused", "agent@var.fr", reason), (refusal.Action, refusal.Actor, refusal.Detail));
        Assert.Empty((await admin.GetFromJsonAsync<AuditTrailView>("/v1/admin/audit?tenant=var"))!.Entries);
    }

    [Theory]
    [InlineData("\u212Aevin@var.fr")]   // the Kelvin sign, which ToLowerInvariant turns into k
    [InlineData("kevin@\uFF56ar.fr")]   // a fullwidth v in the domain, which IDNA would map to v
    public async Task A_look_alike_of_a_listed_address_is_refused(string escaped)
    {
        var lookAlike = escaped;   // (the C# escapes above are the characters themselves)
        using var admin = Admin();
        (await admin.PostAsJsonAsync("/v1/admin/tenants", new { slug = "kelvin", name = "Kelvin", managers = new[] { "kevin@var.fr" } })).EnsureSuccessStatusCode();
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();

        await SignInAtProviderAsync(page, lookAlike);

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Accès non autorisé" })).ToBeVisibleAsync();
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rappel_manager");
        var refusal = Assert.Single((await admin.GetFromJsonAsync<AuditTrailView>("/v1/admin/audit"))!.Entries);
        Assert.Equal("sign_in_refused", refusal.Action);
        Assert.NotEqual("kevin@var.fr", refusal.Actor);   // as received (Chromium sends a domain in its xn-- form)
        // The real address, verified, gets in.
        await SignInAtProviderAsync(page, "Kevin@var.fr");
        await Assertions.Expect(page.Locator("header")).ToContainTextAsync("Kelvin");
    }

    [Fact]
    public async Task An_operator_address_unverified_or_a_look_alike_does_not_open_Hangfire()
    {
        await using var context = await NewContextAsync();
        var page = await context.NewPageAsync();

        fixture.Provider.NextEmailVerified = "false";
        await page.GotoAsync("/hangfire/signin");
        await TypeAtProviderAsync(page, "ops@rappel.test");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("n'a pas confirmé");

        await page.GotoAsync("/hangfire/signin");
        await TypeAtProviderAsync(page, "\uFF4Fps@rappel.test");   // a fullwidth o
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("n'a pas confirmé");
        Assert.DoesNotContain(await context.CookiesAsync(), c => c.Name == "rappel_operator");

        using var admin = Admin();
        var refusals = (await admin.GetFromJsonAsync<AuditTrailView>("/v1/admin/audit"))!.Entries;
        Assert.Equal(2, refusals.Count(e => e.Action == "sign_in_refused" && e.Detail!.StartsWith("operator: ", StringComparison.Ordinal)));
    }
}
