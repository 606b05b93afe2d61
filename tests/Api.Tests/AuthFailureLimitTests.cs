using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>
/// CONTRACT §9.2 and §9.7: more than 20 failed authentications from one client within a minute is a
/// 429 with Retry-After; behind the proxy the deploy templates configure, each client is counted apart,
/// and a correct key is never refused.
/// </summary>
public sealed class AuthFailureLimitTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    /// <summary>The proxy as compose's template names it (deploy/.env.example): every connection comes from it.</summary>
    private const string Proxy = "172.30.0.1";

    private WebApplicationFactory<Program> proxied = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        proxied = api.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("ForwardedHeaders:KnownProxies", Proxy);
            builder.ConfigureServices(services => services.AddSingleton<IStartupFilter>(new ClientAddressFilter(() => IPAddress.Parse(Proxy))));
        });
    }

    public async Task DisposeAsync() => await proxied.DisposeAsync();

    [Fact]
    public async Task Twenty_failures_on_the_logins_and_the_api_then_every_failure_and_every_keyless_request_answers_429_but_a_right_key_gets_in()
    {
        var keys = await api.CreateTenantAsync("limits");
        var client = api.CreateClient();
        client.DefaultRequestHeaders.Add("Sec-Fetch-Site", "same-origin");   // the dashboard's own form, as a browser posts it
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            // Mixed doors, one address: the count is the address's.
            var response = (i % 3) switch
            {
                0 => await api.WithKey("rra_limits_wrong" + i).GetAsync("/v1/appointments/x"),
                1 => await client.PostAsync("/dashboard/login", Form("key=rrm_limits_wrong")),
                _ => await client.PostAsync("/hangfire/login", Form("key=not-the-admin-key")),
            };
            statuses.Add(response.StatusCode);
        }

        var wrongKey = await api.WithKey("rra_limits_wrong").GetAsync("/v1/appointments/x");
        var keyless = await api.CreateClient().GetAsync("/v1/appointments/x");
        var wrongLogin = await client.PostAsync("/hangfire/login", Form("key=not-the-admin-key"));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        await HostileInputTests.AssertProblem(wrongKey, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(wrongKey.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
        await HostileInputTests.AssertProblem(keyless, HttpStatusCode.TooManyRequests);
        Assert.Equal(HttpStatusCode.TooManyRequests, wrongLogin.StatusCode);
        Assert.True(wrongLogin.Headers.Contains("Retry-After"));

        // A right key is checked and let in, from this address too (docs/SECURITY.md: an address is shared by whoever sits behind it).
        Assert.Equal(HttpStatusCode.NotFound, (await api.WithKey(keys.ApiKey).GetAsync("/v1/appointments/x")).StatusCode);
        // (The client follows the redirect into the dashboard.)
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/hangfire/login", Form("key=" + ApiFactory.AdminKey))).StatusCode);
        // Doors without keys are not closed: Twilio and health still answer.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    [Fact]
    public async Task Behind_the_proxy_an_agenda_with_an_old_key_locks_out_neither_the_other_clients_nor_a_right_key_at_its_own_address()
    {
        var first = await api.CreateTenantAsync("old-key");
        var other = await api.CreateTenantAsync("other-agenda");
        var rotated = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/old-key/keys", new { rotate = new[] { "apiKey" } });
        var fresh = (await rotated.Content.ReadFromJsonAsync<TenantKeys>())!;

        var stale = new List<HttpStatusCode>();
        for (var i = 0; i < 25; i++)
        {
            stale.Add((await SendAsync("203.0.113.10", first.ApiKey)).StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 20).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 5)), stale);
        // Another client behind the same proxy: its failures are its own, and its right key works.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync("203.0.113.11", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync("203.0.113.11", other.ApiKey)).StatusCode);
        // The same client address: keyless requests wait, right keys (the tenant's new one, another tenant's) get in.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync("203.0.113.10", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync("203.0.113.10", fresh.ApiKey)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync("203.0.113.10", other.ApiKey)).StatusCode);
        // The proxy's own address was never counted.
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(forwardedFor: null, key: null)).StatusCode);
    }

    [Fact]
    public async Task Wrong_RDV_Solidarites_signatures_count_too_and_get_429_past_the_limit()
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 21; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/webhooks/rdv-solidarites/nowhere") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Forwarded-For", "198.51.100.33");
            request.Headers.Add("X-Lapin-Signature", "00");
            statuses.Add((await proxied.CreateClient().SendAsync(request)).StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.Unauthorized, 20).Append(HttpStatusCode.TooManyRequests), statuses);
    }

    [Fact]
    public async Task A_parallel_burst_of_wrong_keys_gets_twenty_401_and_no_more()
    {
        await api.CreateTenantAsync("burst");

        var statuses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => SendAsync("198.51.100.20", $"rra_burst_wrong{i}")));

        Assert.Equal(20, statuses.Count(r => r.StatusCode == HttpStatusCode.Unauthorized));
        Assert.Equal(40, statuses.Count(r => r.StatusCode == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task An_IPv6_client_is_counted_by_its_slash_64()
    {
        for (var i = 1; i <= 20; i++)
        {
            // A fresh address of the same /64 each time, as one subscriber may take.
            Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync($"2001:db8:1:2::{i:x}", "rra_v6_wrong")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await SendAsync("2001:db8:1:2:ffff:ffff:ffff:1", key: null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync("2001:db8:1:3::1", key: null)).StatusCode);
    }

    [Fact]
    public async Task A_key_sent_where_no_policy_asks_for_one_costs_no_query_and_is_not_counted()
    {
        var keys = await api.CreateTenantAsync("no-lookup");
        var lookups = new ConcurrentBag<string>();
        using var listener = TenantLookups(api.Database.Name, lookups);
        var agenda = proxied.CreateClient();
        agenda.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "rra_no-lookup_wrong");

        for (var i = 0; i < 25; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await agenda.GetAsync("/health/live")).StatusCode);
            Assert.True((await agenda.PostAsync("/twilio/sms", Form("From=%2B33612345678&Body=OUI"))).StatusCode is not HttpStatusCode.TooManyRequests);
        }

        Assert.Empty(lookups);
        // Not counted: the same client still gets a 401, not a 429, where keys are asked for.
        Assert.Equal(HttpStatusCode.Unauthorized, (await agenda.GetAsync("/v1/appointments/x")).StatusCode);
        // And the listener does see a look-up where a policy asks for the key (else the assertion above proves nothing).
        Assert.Equal(HttpStatusCode.NotFound, (await proxied.CreateClient().SendAsync(Request(null, keys.ApiKey))).StatusCode);
        Assert.NotEmpty(lookups);
    }

    private async Task<HttpResponseMessage> SendAsync(string? forwardedFor, string? key) =>
        await proxied.CreateClient().SendAsync(Request(forwardedFor, key));

    private static HttpRequestMessage Request(string? forwardedFor, string? key)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/v1/appointments/x");
        if (forwardedFor is not null)
        {
            // As the proxy writes it: whatever the client sent, then the address it saw.
            request.Headers.Add("X-Forwarded-For", $"10.9.9.9, {forwardedFor}");
        }

        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return request;
    }

    /// <summary>Npgsql's own trace of each command: those of this test's database that read a tenant by its slug.</summary>
    private static ActivityListener TenantLookups(string database, ConcurrentBag<string> lookups)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var tags = activity.TagObjects.Select(t => t.Value?.ToString() ?? "").Append(activity.DisplayName).ToList();
                if (tags.Contains(database) && tags.Any(t => t.Contains("from tenants where slug", StringComparison.Ordinal)))
                {
                    lookups.Add(activity.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static StringContent Form(string body) => new(body, Encoding.UTF8, "application/x-www-form-urlencoded");

}

/// <summary>Sets each connection's address before anything runs, as a client (or a proxy) at that address would.</summary>
internal sealed class ClientAddressFilter(Func<IPAddress> address) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (HttpContext http, RequestDelegate nextMiddleware) =>
        {
            http.Connection.RemoteIpAddress = address();
            await nextMiddleware(http);
        });
        next(app);
    };
}
