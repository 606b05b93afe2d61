using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

public sealed class TenantTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    public Task InitializeAsync() => api.Database.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Creating_a_tenant_shows_its_keys_once_and_stores_only_hashes()
    {
        var response = await api.Admin().PostAsJsonAsync("/v1/admin/tenants", new { slug = "var-cd83", name = "Département du Var" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var keys = await response.Content.ReadFromJsonAsync<TenantKeys>();
        Assert.Equal("var-cd83", keys!.Slug);
        Assert.StartsWith("rra_var-cd83_", keys.ApiKey, StringComparison.Ordinal);
        Assert.StartsWith("rrm_var-cd83_", keys.ManagerKey, StringComparison.Ordinal);
        Assert.Matches("^whsec_[A-Za-z0-9+/]+=*$", keys.WebhookSecret);
        Assert.Equal(32, Convert.FromBase64String(keys.WebhookSecret["whsec_".Length..]).Length);

        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        var stored = await connection.QuerySingleAsync<string>("select row_to_json(t)::text from tenants t");
        Assert.DoesNotContain(keys.ApiKey, stored, StringComparison.Ordinal);
        Assert.DoesNotContain(keys.ManagerKey, stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Defaults_are_those_of_the_contract_and_GET_shows_no_secret()
    {
        await api.CreateTenantAsync("defaults", new { slug = "defaults", name = "D", rdvSolidarites = new { secret = "shared-secret" } });

        var json = await api.Admin().GetStringAsync("/v1/admin/tenants/defaults");
        var tenant = JsonSerializer.Deserialize<TenantView>(json, JsonSerializerOptions.Web)!;

        Assert.Equal("Europe/Paris", tenant.TimeZone);
        Assert.Equal([new ReminderStepView("sms", "P2D", false), new ReminderStepView("voice", "P1D", true)], tenant.Reminders);
        Assert.Equal(new QuietHoursView("20:00", "08:30"), tenant.QuietHours);
        Assert.True(tenant.NotifyOnCreate && tenant.NotifyOnChange && tenant.NotifyOnCancel);
        Assert.Equal(0, tenant.HoldoutPercent);
        Assert.Equal(180, tenant.RetentionDays);
        Assert.DoesNotContain("shared-secret", json, StringComparison.Ordinal);
        Assert.DoesNotContain("whsec_", json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Quiet_hours_can_be_turned_off_with_null()
    {
        await api.CreateTenantAsync("night", new { slug = "night", name = "N", quietHours = (object?)null });

        var tenant = await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/night");

        Assert.Null(tenant!.QuietHours);
    }

    [Fact]
    public async Task A_duplicate_slug_is_a_conflict()
    {
        await api.CreateTenantAsync("dup");

        var response = await api.Admin().PostAsJsonAsync("/v1/admin/tenants", new { slug = "dup", name = "Again" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("""{"slug":"ok","name":"X","timeZone":"Mars/Olympus"}""", "timeZone")]
    [InlineData("""{"slug":"ok","name":"X","timeZone":"UTC+1"}""", "timeZone")]
    [InlineData("""{"slug":"ok","name":"X","reminders":[{"channel":"sms","before":"2 days"}]}""", "reminders[0].before")]
    [InlineData("""{"slug":"ok","name":"X","reminders":[{"channel":"fax","before":"P1D"}]}""", "reminders[0].channel")]
    [InlineData("""{"slug":"ok","name":"X","quietHours":{"from":"8pm","to":"08:30"}}""", "quietHours.from")]
    [InlineData("""{"slug":"ok","name":"X","quietHours":{"from":"20:00","to":"25:00"}}""", "quietHours.to")]
    [InlineData("""{"slug":"ok","name":"X","holdoutPercent":60}""", "holdoutPercent")]
    [InlineData("""{"slug":"Bad Slug","name":"X"}""", "slug")]
    [InlineData("""{"slug":"ok"}""", "name")]
    [InlineData("""{"slug":"ok","name":"X","webhook":{"url":"not a url"}}""", "webhook.url")]
    [InlineData("""{"slug":"ok","name":"X","holdoutPercent":"ten"}""", "holdoutPercent")]
    public async Task Invalid_settings_are_refused_naming_the_field(string body, string field)
    {
        var response = await api.Admin().PostAsync("/v1/admin/tenants", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"expected an error on {field}: {problem}");
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>("select count(*) from tenants"));
    }

    [Fact]
    public async Task The_admin_api_needs_the_operator_key()
    {
        var anonymous = await api.CreateClient().PostAsJsonAsync("/v1/admin/tenants", new { slug = "x", name = "X" });
        var wrong = await api.WithKey("not-the-admin-key-at-all").PostAsJsonAsync("/v1/admin/tenants", new { slug = "x", name = "X" });
        var keys = await api.CreateTenantAsync("tenant-key");
        var tenantKey = await api.WithKey(keys.ApiKey).GetAsync("/v1/admin/tenants/tenant-key");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, tenantKey.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Settings_change_with_PUT()
    {
        await api.CreateTenantAsync("change");

        var response = await api.Admin().PutAsJsonAsync("/v1/admin/tenants/change",
            new { slug = "change", name = "Changed", holdoutPercent = 10, reminders = new[] { new { channel = "sms", before = "PT3H" } } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tenant = await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/change");
        Assert.Equal("Changed", tenant!.Name);
        Assert.Equal(10, tenant.HoldoutPercent);
        Assert.Equal([new ReminderStepView("sms", "PT3H", false)], tenant.Reminders);
        Assert.Equal(HttpStatusCode.NotFound, (await api.Admin().PutAsJsonAsync("/v1/admin/tenants/nobody", new { name = "X" })).StatusCode);
    }

    [Fact]
    public async Task Rotating_keys_retires_the_old_ones_at_once()
    {
        var old = await api.CreateTenantAsync("rotate");
        // Used once first, so that the Api knows (and caches) the tenant with its old keys.
        Assert.Equal(HttpStatusCode.NotFound, (await api.WithKey(old.ApiKey).GetAsync("/v1/appointments/x")).StatusCode);

        var response = await api.Admin().PostAsync("/v1/admin/tenants/rotate/keys", null);
        var fresh = await response.Content.ReadFromJsonAsync<TenantKeys>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotEqual(old.ApiKey, fresh!.ApiKey);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.WithKey(old.ApiKey).GetAsync("/v1/appointments/x")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.WithKey(fresh.ApiKey).GetAsync("/v1/appointments/x")).StatusCode);
    }
}
