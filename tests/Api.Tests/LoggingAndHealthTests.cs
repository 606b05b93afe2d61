using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace RappelRdv.Api.Tests;

public sealed class LoggingAndHealthTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task No_phone_number_in_clear_reaches_the_log_output()
    {
        var agenda = api.WithKey((await api.CreateTenantAsync("logs")).ApiKey);
        await agenda.PutAsJsonAsync("/v1/appointments/logged", new
        {
            startsAt = "2026-12-03T09:30:00+01:00",
            citizen = new { phone = "06 98 76 54 32", firstName = "Awa" },
            location = new { phone = "04 94 11 22 33" },
        });
        // A bad phone is echoed nowhere either, even in the validation path.
        await agenda.PutAsJsonAsync("/v1/appointments/bad", new { startsAt = "2026-12-03T09:30:00+01:00", citizen = new { phone = "06 98 76 54 3" } });
        await agenda.GetAsync("/v1/appointments/logged?phone=0698765432");

        var log = await api.Log.WaitForAsync("/v1/appointments/logged\",\"StatusCode\":200");

        Assert.Contains("/v1/appointments/logged", log, StringComparison.Ordinal);
        foreach (var needle in new[] { "698765432", "06 98 76 54 32", "69876543", "494112233", "98 76 54" })
        {
            Assert.DoesNotContain(needle, log, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Health_and_the_OpenAPI_document_answer()
    {
        var client = api.CreateClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        var openApi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/appointments/{externalId}", out _));
    }
}
