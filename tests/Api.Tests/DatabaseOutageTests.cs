using System.Net;
using RappelRdv.TestSupport;
using System.Net.Http.Json;
using Npgsql;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The Api with PostgreSQL out of reach (CONTRACT §9.1): its connections go through a gate on
/// loopback that the test cuts (the database is down or restarting: connections refused and
/// dropped) or pauses (the database is stopped with SIGSTOP: bytes go nowhere).
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private readonly ApiFactory api = new();
    private TcpGate gate = null!;
    private HttpClient agenda = null!;

    public async Task InitializeAsync()
    {
        await api.InitializeAsync();
        var target = new NpgsqlConnectionStringBuilder(api.Database.ConnectionString);
        gate = TcpGate.Start(target.Host!, target.Port);
        var through = new NpgsqlConnectionStringBuilder(api.Database.ConnectionString)
        {
            Host = "127.0.0.1", Port = gate.Port, Timeout = 3, CommandTimeout = 10,
        };
        api.Settings["ConnectionStrings:Postgres"] = through.ToString();
        agenda = api.WithKey((await api.CreateTenantAsync("outage")).ApiKey);
    }

    private static object Appointment() => new
    {
        startsAt = "2026-12-03T09:30:00+01:00",
        durationMinutes = 30,
        citizen = new { phone = "06 12 34 56 78", firstName = "Awa", lastName = "Diallo" },
        service = "RSA",
        location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon", phone = "04 94 00 00 00" },
    };

    [Fact]
    public async Task While_the_database_is_unreachable_v1_and_ready_answer_503_with_Retry_After_then_2xx_once_it_is_back()
    {
        Assert.Equal(HttpStatusCode.Created, (await agenda.PutAsJsonAsync("/v1/appointments/before", Appointment())).StatusCode);

        gate.Cut();
        var down = await agenda.GetAsync("/v1/appointments/before");
        var write = await agenda.PutAsJsonAsync("/v1/appointments/during", Appointment());
        var ready = await api.CreateClient().GetAsync("/health/ready");

        foreach (var response in new[] { down, write, ready })
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After should say when to come back");
        }

        gate.Restore();
        Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().GetAsync("/health/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agenda.GetAsync("/v1/appointments/before")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await agenda.PutAsJsonAsync("/v1/appointments/during", Appointment())).StatusCode);
    }

    [Fact]
    public async Task A_creation_that_cannot_be_written_in_time_is_503_with_Retry_After_and_a_retry_is_stored()
    {
        // The tenant's key is known (cached) before the database freezes: only the creation waits.
        Assert.Equal(HttpStatusCode.NotFound, (await agenda.GetAsync("/v1/appointments/paused")).StatusCode);
        gate.Pause();
        var put = agenda.PutAsJsonAsync("/v1/appointments/paused", Appointment());
        // The request waits for its batch on the Api's clock: move it on a second at each look until the
        // write timeout has passed (the request says nothing when its wait starts: one move could come before it).
        await Eventually.UntilAsync(
            () =>
            {
                if (put.IsCompleted)
                {
                    return true;
                }

                api.Clock.Advance(TimeSpan.FromSeconds(1));
                return false;
            },
            () => $"the creation still unanswered with the Api's clock at {api.Clock.GetUtcNow():O}");

        var response = await put;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Contains("could not be written within", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        gate.Resume();
        var retry = await agenda.PutAsJsonAsync("/v1/appointments/paused", Appointment());
        Assert.True(retry.IsSuccessStatusCode, $"the retry should be stored: {(int)retry.StatusCode}");
        Assert.Equal(HttpStatusCode.OK, (await agenda.GetAsync("/v1/appointments/paused")).StatusCode);
    }

    public async Task DisposeAsync()
    {
        gate.Dispose();
        await api.DisposeAsync();
    }
}
