using System.Net;
using System.Text;

namespace RappelRdv.Api.Tests;

/// <summary>CONTRACT §9.2: more than 20 failed authentications from one address within a minute is a 429 with Retry-After.</summary>
public sealed class AuthFailureLimitTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    public async Task InitializeAsync() => await api.Database.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Twenty_failures_on_the_logins_and_the_api_then_every_door_answers_429_with_retry_after()
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

        var refused = await api.WithKey(keys.ApiKey).GetAsync("/v1/appointments/x");
        var login = await client.PostAsync("/hangfire/login", Form("key=" + ApiFactory.AdminKey));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        await HostileInputTests.AssertProblem(refused, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 60);
        Assert.Equal(HttpStatusCode.TooManyRequests, login.StatusCode);
        // Doors without keys are not closed: Twilio and health still answer.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
    }

    private static StringContent Form(string body) => new(body, Encoding.UTF8, "application/x-www-form-urlencoded");
}
