using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Mvc.Testing;

namespace RappelRdv.Api.Tests;

public sealed class HangfireDashboardTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    private HttpClient Browser()
    {
        var client = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    private HttpClient Script(string? bearer = null)
    {
        var client = api.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    private static FormUrlEncodedContent Login(string key, string returnUrl = "/hangfire") =>
        new(new Dictionary<string, string> { ["key"] = key, ["returnUrl"] = returnUrl });

    // What the dashboard's pages post to refresh their counters.
    private static FormUrlEncodedContent StatsForm() => new([new("metrics[]", "enqueued:count")]);

    [Fact]
    public async Task A_browser_without_the_cookie_is_sent_to_the_login_form()
    {
        var response = await Browser().GetAsync("/hangfire/jobs/enqueued");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/hangfire/login?returnUrl=%2Fhangfire%2Fjobs%2Fenqueued", response.Headers.Location!.OriginalString);
        var form = await Browser().GetAsync(response.Headers.Location);
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Contains("name=\"key\"", await form.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/hangfire")]
    [InlineData("/hangfire/jobs/succeeded")]
    [InlineData("/hangfire/stats")]
    public async Task Without_the_admin_key_the_dashboard_answers_401(string path)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Script().GetAsync(path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Script().PostAsync(path, StatsForm())).StatusCode);
    }

    [Fact]
    public async Task A_wrong_key_a_tenant_key_or_a_forged_cookie_is_refused()
    {
        var tenant = await api.CreateTenantAsync("hangfire-outsider");

        Assert.Equal(HttpStatusCode.Unauthorized, (await Script("wrong-admin-key-0123456789").GetAsync("/hangfire")).StatusCode);
        // A tenant's key is not the operator's, and the operator's door looks no tenant up (no default scheme): 401, counted.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Script(tenant.ApiKey).GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Script(tenant.ManagerKey).GetAsync("/hangfire")).StatusCode);

        var wrongLogin = await Browser().PostAsync("/hangfire/login", Login("wrong-admin-key-0123456789"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrongLogin.StatusCode);
        Assert.False(wrongLogin.Headers.Contains("Set-Cookie"));
        Assert.Contains("Clé refusée", await wrongLogin.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var forged = new HttpRequestMessage(HttpMethod.Post, "/hangfire/stats") { Content = StatsForm() };
        var expires = api.Clock.GetUtcNow().AddHours(1).ToUnixTimeSeconds();
        forged.Headers.Add("Cookie", $"rappel_operator={expires}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        Assert.Equal(HttpStatusCode.Unauthorized, (await Script().SendAsync(forged)).StatusCode);
    }

    [Fact]
    public async Task The_admin_key_as_a_bearer_token_opens_the_dashboard()
    {
        var response = await Script(ApiFactory.AdminKey).GetAsync("/hangfire");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Hangfire", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await Script(ApiFactory.AdminKey).PostAsync("/hangfire/stats", StatsForm())).StatusCode);
    }

    [Fact]
    public async Task Signing_in_with_the_admin_key_sets_a_strict_http_only_cookie_that_opens_the_dashboard()
    {
        var login = await Browser().PostAsync("/hangfire/login", Login(ApiFactory.AdminKey, "/hangfire/recurring"));

        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/hangfire/recurring", login.Headers.Location!.OriginalString);
        var setCookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("rappel_operator=", setCookie, StringComparison.Ordinal);
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/hangfire", setCookie, StringComparison.OrdinalIgnoreCase);
        // The test server speaks http and PublicBaseUrl is http: a Secure cookie would never come back.
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(ApiFactory.AdminKey, setCookie, StringComparison.Ordinal);

        var cookie = setCookie.Split(';')[0];
        var page = new HttpRequestMessage(HttpMethod.Get, "/hangfire/recurring");
        page.Headers.Add("Cookie", cookie);
        var response = await Browser().SendAsync(page);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("RappelRdv", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Eight hours later the cookie has expired.
        api.Clock.Advance(TimeSpan.FromHours(8) + TimeSpan.FromMinutes(1));
        try
        {
            var later = new HttpRequestMessage(HttpMethod.Post, "/hangfire/stats") { Content = StatsForm() };
            later.Headers.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.Unauthorized, (await Script().SendAsync(later)).StatusCode);
        }
        finally
        {
            api.Clock.AdjustTime(api.Clock.GetUtcNow() - TimeSpan.FromHours(8) - TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task The_login_form_never_redirects_outside_the_dashboard()
    {
        foreach (var returnUrl in new[] { "https://evil.example/", "//evil.example/hangfire", "/v1/admin/tenants", "/hangfire//evil.example" })
        {
            var login = await Browser().PostAsync("/hangfire/login", Login(ApiFactory.AdminKey, returnUrl));
            Assert.Equal("/hangfire", login.Headers.Location!.OriginalString);
        }
    }
}
