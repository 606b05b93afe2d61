using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using RappelRdv.Contracts;
using StandardWebhooks;
using StandardWebhooks.Diagnostics;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>CONTRACT §9.2: rotation per key, answering only the new ones; after a webhookSecret rotation, events carry both signatures for 24 hours.</summary>
public sealed class KeyRotationTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await e2e.ResetAsync();
        // The reference library checks the timestamp against the real clock (5 minutes of tolerance).
        e2e.Api.Clock.AdjustTime(TimeProvider.System.GetUtcNow());
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Rotating_the_api_key_alone_answers_only_it_and_leaves_the_manager_key_working()
    {
        var (_, keys) = await e2e.TenantAsync("rot");

        var response = await e2e.Api.Admin().PostAsync("/v1/admin/tenants/rot/keys", Json("""{"rotate":["apiKey"]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["apiKey", "slug"], answer.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var newKey = answer.GetProperty("apiKey").GetString()!;
        Assert.Equal(HttpStatusCode.Unauthorized, (await e2e.Api.WithKey(keys.ApiKey).GetAsync("/v1/appointments/x")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await e2e.Api.WithKey(newKey).GetAsync("/v1/appointments/x")).StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, (await e2e.Api.WithKey(keys.ManagerKey).GetAsync("/v1/stats/no-show")).StatusCode);
    }

    [Fact]
    public async Task An_unknown_key_name_is_a_400_naming_rotate_and_no_body_rotates_all_three()
    {
        var (_, keys) = await e2e.TenantAsync("rot-all");

        var bad = await e2e.Api.Admin().PostAsync("/v1/admin/tenants/rot-all/keys", Json("""{"rotate":["adminKey"]}"""));
        var all = await e2e.Api.Admin().PostAsync("/v1/admin/tenants/rot-all/keys", null);

        await HostileInputTests.AssertProblem(bad, HttpStatusCode.BadRequest, "rotate");
        var rotated = await all.Content.ReadFromJsonAsync<TenantKeys>();
        Assert.NotEqual(keys.ApiKey, rotated!.ApiKey);
        Assert.NotEqual(keys.ManagerKey, rotated.ManagerKey);
        Assert.NotEqual(keys.WebhookSecret, rotated.WebhookSecret);
    }

    [Fact]
    public async Task After_a_webhook_secret_rotation_events_verify_with_the_new_and_the_old_secret_for_24_hours()
    {
        var (_, keys) = await e2e.TenantAsync("rot-hook");
        var response = await e2e.Api.Admin().PostAsync("/v1/admin/tenants/rot-hook/keys", Json("""{"rotate":["webhookSecret"]}"""));
        var newSecret = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("webhookSecret").GetString()!;

        await RecordEventAsync("rdv-rot-1");
        await e2e.DeliverEventsAsync();

        var call = Assert.Single(e2e.AgendaCalls);
        Assert.Equal(2, call.Headers!["webhook-signature"].ToString().Split(' ').Length);
        // The header as it is: the reference library checks it with the new secret (it is first).
        Verify(call, call.Headers["webhook-signature"].ToString(), newSecret);
        // StandardWebhooks 1.1.2 compares only the first signature of the list, so an agenda still on
        // the old secret checks each one (docs/SECURITY.md): the second verifies with the old secret.
        var signatures = call.Headers["webhook-signature"].ToString().Split(' ');
        Verify(call, signatures[1], keys.WebhookSecret);
        Assert.Throws<WebhookVerificationException>(() => Verify(call, signatures[0], keys.WebhookSecret));

        // A day later only the new secret signs.
        e2e.AgendaCalls.Clear();
        e2e.Api.Clock.Advance(TimeSpan.FromHours(24) + TimeSpan.FromMinutes(1));
        await RecordEventAsync("rdv-rot-2");
        await e2e.DeliverEventsAsync();
        var later = Assert.Single(e2e.AgendaCalls);
        var timestamp = DateTimeOffset.FromUnixTimeSeconds(long.Parse(later.Headers!["webhook-timestamp"].ToString(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(new StandardWebhook(newSecret).Sign(later.Headers["webhook-id"].ToString(), timestamp, later.Body!), later.Headers["webhook-signature"].ToString());
    }

    private async Task RecordEventAsync(string externalId)
    {
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        var tenantId = await connection.ExecuteScalarAsync<long>("select id from tenants where slug = 'rot-hook'");
        await RappelRdv.Reminders.Events.EventOutbox.RecordAsync(connection, null, tenantId, AgendaEventTypes.Confirmed,
            new AgendaEventData(externalId, "confirmed", "sms", "oui"), e2e.Api.Clock.GetUtcNow());
    }

    /// <summary>As an agenda checks with the reference library: id, timestamp and signatures from the headers, the raw body.</summary>
    private static void Verify(WireMock.IRequestMessage call, string signature, string secret)
    {
        var headers = new Microsoft.AspNetCore.Http.HeaderDictionary
        {
            ["webhook-id"] = call.Headers!["webhook-id"].ToString(),
            ["webhook-timestamp"] = call.Headers["webhook-timestamp"].ToString(),
            ["webhook-signature"] = signature,
        };
        new StandardWebhook(secret).Verify(call.Body!, headers);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
