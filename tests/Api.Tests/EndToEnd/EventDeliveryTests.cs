extern alias worker;

using System.Net.Http.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RappelRdv.Contracts;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using EventDelivery = worker::RappelRdv.Worker.Events.EventDelivery;

namespace RappelRdv.Api.Tests.EndToEnd;

public sealed class EventDeliveryTests(EndToEndHarness e2e) : IClassFixture<EndToEndHarness>, IAsyncLifetime
{
    public Task InitializeAsync() => e2e.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task RecordEventsAsync(string slug, string url, int count)
    {
        var keys = await e2e.Api.CreateTenantAsync(slug, new { slug, name = slug, webhook = new { url } });
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        var tenantId = await connection.ExecuteScalarAsync<long>("select id from tenants where slug = @slug", new { slug });
        for (var i = 0; i < count; i++)
        {
            await RappelRdv.Reminders.Events.EventOutbox.RecordAsync(connection, null, tenantId, AgendaEventTypes.Confirmed,
                new AgendaEventData($"{slug}-{i}", "confirmed", "sms", "oui"), e2e.Api.Clock.GetUtcNow());
        }

        _ = keys;
    }

    [Fact]
    public async Task A_dead_endpoint_of_one_tenant_does_not_delay_another_tenants_events()
    {
        using var dead = WireMockServer.Start();
        dead.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(503));
        await RecordEventsAsync("dead", dead.Url + "/events", 10);
        await RecordEventsAsync("alive", e2e.Agenda.Url + "/events", 1);

        await e2e.DeliverEventsAsync();

        Assert.Single(e2e.AgendaCalls);
        // Two tries of the dead tenant at most in a round; all its events now wait for the backoff.
        Assert.InRange(dead.LogEntries.Count(), 1, 2);
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>(
            "select count(*) from events e join tenants t on t.id = e.tenant_id where t.slug = 'dead' and e.next_attempt_at <= @now",
            new { now = e2e.Api.Clock.GetUtcNow() }));
    }

    [Fact]
    public async Task Redirects_are_not_followed()
    {
        using var moved = WireMockServer.Start();
        moved.Given(Request.Create().UsingPost()).RespondWith(Response.Create().WithStatusCode(302).WithHeader("Location", e2e.Agenda.Url + "/events"));
        await RecordEventsAsync("moved", moved.Url + "/events", 1);

        await e2e.DeliverEventsAsync();

        Assert.Single(moved.LogEntries);
        Assert.Empty(e2e.AgendaCalls);
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        Assert.Equal("pending", await connection.ExecuteScalarAsync<string>("select status from events"));
    }

    [Fact]
    public async Task Outside_development_an_event_is_never_sent_to_a_private_address()
    {
        await RecordEventsAsync("private", e2e.Agenda.Url + "/events", 1);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(e2e.Api.Clock);
        services.AddHttpClient(EventDelivery.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => EventDelivery.CreateHandler(allowPrivateNetworks: false));
        await using var provider = services.BuildServiceProvider();
        var delivery = new EventDelivery(e2e.Api.Database.DataSource, provider.GetRequiredService<IHttpClientFactory>(), e2e.Api.Clock,
            NullLogger<EventDelivery>.Instance);

        await delivery.DeliverDueAsync(CancellationToken.None);

        Assert.Empty(e2e.AgendaCalls);
        await using var connection = await e2e.Api.Database.DataSource.OpenConnectionAsync();
        Assert.Contains("ConnectionError", await connection.ExecuteScalarAsync<string>("select last_error from events"), StringComparison.Ordinal);
    }
}

public sealed class WebhookUrlPolicyTests : IClassFixture<ApiFactory>
{
    private readonly ApiFactory api;

    public WebhookUrlPolicyTests(ApiFactory api)
    {
        this.api = api;
        api.Settings["Webhooks:AllowPrivateNetworks"] = "false";
    }

    [Theory]
    [InlineData("http://agenda.example.org/events", false)]
    [InlineData("https://127.0.0.1/events", false)]
    [InlineData("https://10.1.2.3/events", false)]
    [InlineData("https://192.168.1.10/events", false)]
    [InlineData("https://[::1]/events", false)]
    [InlineData("https://localhost/events", false)]
    [InlineData("https://agenda.example.org/rappel-events", true)]
    public async Task Without_private_networks_a_webhook_must_be_https_and_public(string url, bool accepted)
    {
        var slug = "w" + Guid.NewGuid().ToString("N")[..8];

        var response = await api.Admin().PostAsJsonAsync("/v1/admin/tenants", new { slug, name = "W", webhook = new { url } });

        Assert.Equal(accepted ? System.Net.HttpStatusCode.Created : System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }
}
