using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;

namespace RappelRdv.Api.Tests;

/// <summary>
/// Each Api caches the tenants it authenticates (Tenants/TenantCache.cs). A change made through
/// another Api sharing the database must reach this one: keys rotated there stop working here,
/// settings changed there are used here.
/// </summary>
public sealed class TenantCacheTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private OtherApi other = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        other = new OtherApi(api.Database.ConnectionString);
    }

    public async Task DisposeAsync() => await other.DisposeAsync();

    [Fact]
    public async Task Keys_rotated_on_another_Api_stop_working_here_and_the_new_ones_work_at_once()
    {
        var old = await api.CreateTenantAsync("rotated-elsewhere");
        var here = api.WithKey(old.ApiKey);
        Assert.Equal(HttpStatusCode.NotFound, (await here.GetAsync("/v1/appointments/x")).StatusCode);   // now cached here

        var rotated = await other.Admin().PostAsync("/v1/admin/tenants/rotated-elsewhere/keys", null);
        var fresh = (await rotated.Content.ReadFromJsonAsync<TenantKeys>())!;

        // The new key is checked against the database as soon as it does not match the cache.
        Assert.Equal(HttpStatusCode.NotFound, (await api.WithKey(fresh.ApiKey).GetAsync("/v1/appointments/x")).StatusCode);
        // The old one is forgotten when the notification of the change arrives: milliseconds.
        Assert.Equal(HttpStatusCode.Unauthorized, await EventuallyAsync(here, HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Settings_changed_on_another_Api_are_used_here()
    {
        var keys = await api.CreateTenantAsync("changed-elsewhere", new { slug = "changed-elsewhere", name = "Before", quietHours = (object?)null });
        var agenda = api.WithKey(keys.ApiKey);
        Assert.Equal(HttpStatusCode.Created, (await agenda.PutAsJsonAsync("/v1/appointments/before", Appointment())).StatusCode);

        var changed = await other.Admin().PutAsJsonAsync("/v1/admin/tenants/changed-elsewhere", new
        {
            name = "After",
            quietHours = (object?)null,
            notifyOnCreate = false,
            reminders = new[] { new { channel = "sms", before = "PT2H" } },
        });
        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);

        // The first appointment got the default plan (a confirmation and two reminders); one pushed once the
        // change is heard gets the new one: a single reminder two hours before, no confirmation.
        var attempt = 0;
        var view = await Eventually.ValueAsync(
            async () => (await (await agenda.PutAsJsonAsync($"/v1/appointments/after-{attempt++}", Appointment())).Content.ReadFromJsonAsync<AppointmentView>())!,
            v => v.Messages.Count == 1);

        Assert.Equal(3, (await agenda.GetFromJsonAsync<AppointmentView>("/v1/appointments/before"))!.Messages.Count);
        var reminder = Assert.Single(view.Messages);
        Assert.Equal("reminder", reminder.Kind);
        Assert.Equal(view.StartsAt - TimeSpan.FromHours(2), reminder.DueAt);
    }

    [Fact]
    public async Task When_the_listener_loses_its_connection_nothing_is_served_from_the_cache()
    {
        var keys = await api.CreateTenantAsync("unheard");
        var agenda = api.WithKey(keys.ApiKey);
        Assert.Equal(HttpStatusCode.NotFound, (await agenda.GetAsync("/v1/appointments/x")).StatusCode);   // cached

        // The listener's connection dies; meanwhile the key changes in the database. Its notification
        // cannot be heard, so the cache must have been dropped with the connection.
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        var terminated = await connection.ExecuteScalarAsync<int>(
            """
            select count(*) from (
                select pg_terminate_backend(pid) from pg_stat_activity
                where datname = current_database() and application_name like '%tenant-listener') t
            """);
        Assert.True(terminated >= 1, "the listener's connection was not found");
        await connection.ExecuteAsync("update tenants set api_key_hash = sha256('another key'::bytea) where slug = 'unheard'");

        Assert.Equal(HttpStatusCode.Unauthorized, await EventuallyAsync(agenda, HttpStatusCode.Unauthorized));
    }

    private static Task<HttpStatusCode> EventuallyAsync(HttpClient client, HttpStatusCode expected) =>
        Eventually.ValueAsync(async () => (await client.GetAsync("/v1/appointments/x")).StatusCode, status => status == expected);

    private static object Appointment() => new
    {
        startsAt = "2026-12-03T09:30:00+01:00",
        citizen = new { phone = "06 12 34 56 78" },
        service = "RSA",
    };

    /// <summary>A second Api on the same database, as in a deployment with several replicas.</summary>
    private sealed class OtherApi(string connectionString) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Postgres", connectionString);
            builder.UseSetting("Admin:ApiKey", ApiFactory.AdminKey);
            builder.UseSetting("PublicBaseUrl", "http://rappel.test");
        }

        public HttpClient Admin()
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
            return client;
        }
    }
}
