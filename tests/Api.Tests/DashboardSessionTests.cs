using System.Net;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Mvc.Testing;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The dashboard's session cookie: a signed ticket without the key, 12 hours at most, ended by a key
/// rotation, read by any Api process (Data Protection keys in PostgreSQL); and the audit trail it feeds.
/// </summary>
public sealed class DashboardSessionTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private TenantKeys keys = null!;
    private long tenantId;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        keys = await api.CreateTenantAsync("var", new { slug = "var", name = "Département du Var" });
        tenantId = await StatsFixtures.TenantIdAsync(api.Database, "var");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static HttpClient Browser(ApiFactory factory) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    private static async Task<string> SignInAsync(ApiFactory factory, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/dashboard/login")
        {
            Content = new FormUrlEncodedContent([new KeyValuePair<string, string>("key", key)]),
        };
        request.Headers.Add("Origin", "http://localhost");
        var login = await Browser(factory).SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return Assert.Single(login.Headers.GetValues("Set-Cookie")).Split(';')[0];
    }

    private static async Task<HttpResponseMessage> GetAsync(ApiFactory factory, string path, string cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return await Browser(factory).SendAsync(request);
    }

    [Fact]
    public async Task Rotating_the_managerKey_ends_the_sessions_opened_with_it_and_only_those()
    {
        var managerSession = await SignInAsync(api, keys.ManagerKey);
        var apiKeySession = await SignInAsync(api, keys.ApiKey);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(api, "/dashboard", managerSession)).StatusCode);

        var rotated = await api.Admin().PostAsync("/v1/admin/tenants/var/keys", null);
        rotated.EnsureSuccessStatusCode();
        var fresh = (await rotated.Content.ReadFromJsonAsync<TenantKeys>())!;

        var afterRotation = await GetAsync(api, "/dashboard", managerSession);
        Assert.Equal(HttpStatusCode.Redirect, afterRotation.StatusCode);
        Assert.Equal("/dashboard/login", afterRotation.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync(api, "/dashboard", apiKeySession)).StatusCode); // both keys were rotated
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(api, "/dashboard", await SignInAsync(api, fresh.ManagerKey))).StatusCode);
    }

    [Fact]
    public async Task A_session_lasts_12_hours_whatever_the_cookie_says()
    {
        var session = await SignInAsync(api, keys.ManagerKey);

        api.Clock.Advance(TimeSpan.FromHours(12) - TimeSpan.FromMinutes(1));
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(api, "/dashboard", session)).StatusCode);
        api.Clock.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HttpStatusCode.Redirect, (await GetAsync(api, "/dashboard", session)).StatusCode);
    }

    [Fact]
    public async Task Another_Api_process_on_the_same_database_accepts_the_session()
    {
        var session = await SignInAsync(api, keys.ManagerKey);
        await using var other = new ApiFactory();
        other.Settings["ConnectionStrings:Postgres"] = api.Database.ConnectionString;
        // Two processes share the wall clock: the other Api's starts where this class's is (other tests advance it).
        other.Clock.SetUtcNow(api.Clock.GetUtcNow());

        var response = await GetAsync(other, "/dashboard", session);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        Assert.True(await connection.ExecuteScalarAsync<long>("select count(*) from data_protection_keys") >= 1);
    }

    [Fact]
    public async Task Sign_ins_views_of_failures_and_exports_are_in_the_audit_trail_without_any_phone()
    {
        await StatsFixtures.AddAsync(api.Database, tenantId, "2026-11-30T09:00:00Z", phone: "+33698765432");
        await using (var connection = await api.Database.DataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync(
                """
                insert into messages (id, appointment_id, tenant_id, kind, channel, plan_version, due_at, status, error, created_at, updated_at)
                select gen_random_uuid(), id, tenant_id, 'reminder', 'sms', 1, now(), 'failed', '21211: +33698765432 invalid', now(), '2026-11-26T10:05:00Z'
                from appointments
                """);
        }

        var session = await SignInAsync(api, keys.ManagerKey);
        await GetAsync(api, "/dashboard", session);
        await GetAsync(api, "/dashboard/export.csv?from=2026-11-01&to=2026-11-27&by=service", session);
        var other = await api.CreateTenantAsync("other");
        await SignInAsync(api, other.ManagerKey);

        var response = await api.Admin().GetAsync("/v1/admin/audit?tenant=var");
        var trail = (await response.Content.ReadFromJsonAsync<AuditTrailView>())!;
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["export_csv", "view_failures", "sign_in"], trail.Entries.Select(e => e.Action));
        Assert.All(trail.Entries, e => Assert.Equal("var", e.Tenant));
        Assert.All(trail.Entries, e => Assert.Equal("managerKey", e.Actor));
        Assert.All(trail.Entries, e => Assert.Equal(api.Clock.GetUtcNow(), e.At));
        Assert.Equal("by=service from=2026-11-01 to=2026-11-27", trail.Entries[0].Detail);
        Assert.DoesNotContain("98765432", body);
        Assert.DoesNotContain(keys.ManagerKey, body);
        Assert.Equal(4, (await api.Admin().GetFromJsonAsync<AuditTrailView>("/v1/admin/audit"))!.Entries.Count);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.WithKey(keys.ManagerKey).GetAsync("/v1/admin/audit?tenant=var")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.Admin().GetAsync("/v1/admin/audit?limit=0")).StatusCode);
    }

    [Theory]
    [InlineData("/dashboard/signin")]
    [InlineData("/dashboard/signed-in")]
    [InlineData("/hangfire/signin")]
    [InlineData("/hangfire/signed-in")]
    public async Task Without_a_provider_the_sign_in_paths_lead_back_to_the_key_login(string path)
    {
        var response = await Browser(api).GetAsync(path);
        var login = await Browser(api).GetAsync("/dashboard/login");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.EndsWith("/login", response.Headers.Location?.OriginalString);
        Assert.DoesNotContain("/dashboard/signin", await login.Content.ReadAsStringAsync()); // no provider offered
    }

    [Fact]
    public void An_incomplete_provider_configuration_stops_the_Api_naming_the_key()
    {
        using var misconfigured = new ApiFactory();
        misconfigured.Settings["Oidc:Authority"] = "https://auth.example.org/api/v2";
        misconfigured.Settings["Oidc:ClientId"] = "rappel";

        var error = Assert.ThrowsAny<Exception>(() => misconfigured.CreateClient());

        Assert.Contains("Oidc__ClientSecret", error.ToString());
    }

    [Fact]
    public async Task The_managers_list_is_set_through_the_admin_API_and_checked()
    {
        var put = await api.Admin().PutAsJsonAsync("/v1/admin/tenants/var",
            new { slug = "var", name = "Département du Var", managers = new[] { "Agent@Var.fr", "agent@var.fr", "chef@var.fr" } });
        var bad = await api.Admin().PutAsJsonAsync("/v1/admin/tenants/var",
            new { slug = "var", name = "Département du Var", managers = new[] { "chef@var.fr", "not an e-mail" } });
        var view = await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/var");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("managers[1]", await bad.Content.ReadAsStringAsync());
        Assert.Equal(["agent@var.fr", "chef@var.fr"], view!.Managers);
    }
}
