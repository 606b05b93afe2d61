using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;

namespace RappelRdv.Api.Tests;

/// <summary>Every way an agenda can get a request wrong: a clear 4xx naming the field, and nothing changed.</summary>
public sealed class BadInputTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const string Valid = """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"}}""";
    private HttpClient agenda = null!;
    private string managerKey = "";

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        var keys = await api.CreateTenantAsync("bad");
        managerKey = keys.ManagerKey;
        agenda = api.WithKey(keys.ApiKey);
        (await agenda.PutAsync("/v1/appointments/existing", Json(Valid))).EnsureSuccessStatusCode();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"}""", "body" },
        { "not json at all", "body" },
        { "", "body" },
        { """{"startsAt":"2026-12-03T09:30:00","citizen":{"phone":"0612345678"}}""", "startsAt" },
        { """{"startsAt":"demain 9h","citizen":{"phone":"0612345678"}}""", "startsAt" },
        { """{"citizen":{"phone":"0612345678"}}""", "startsAt" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"12345"}}""", "citizen.phone" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"appelez-moi"}}""", "citizen.phone" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"+1 202 555 0143"}}""", "citizen.phone" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00"}""", "citizen" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"0612345678","channel":"fax"}}""", "citizen.channel" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"},"mode":"video"}""", "mode" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"},"durationMinutes":"long"}""", "durationMinutes" },
        { """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"0612345678"},"durationMinutes":0}""", "durationMinutes" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_body_is_a_400_naming_the_field_and_changes_nothing(string body, string field)
    {
        var before = await Snapshot();

        var response = await agenda.PutAsync("/v1/appointments/existing", Json(body));

        await AssertProblem(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task A_body_over_64_KiB_is_refused()
    {
        var before = await Snapshot();
        var body = Valid.Replace("\"citizen\"", $"\"padding\":\"{new string('x', 70_000)}\",\"citizen\"", StringComparison.Ordinal);

        var response = await agenda.PutAsync("/v1/appointments/existing", Json(body));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, await Snapshot());
    }

    [Theory]
    [InlineData("with%20space")]
    [InlineData("slash%2Finside")]
    [InlineData("accentu%C3%A9")]
    public async Task A_bad_externalId_is_refused(string externalId)
    {
        var response = await agenda.PutAsync($"/v1/appointments/{externalId}", Json(Valid));

        await AssertProblem(response, HttpStatusCode.BadRequest, "externalId");
    }

    [Fact]
    public async Task An_externalId_of_2000_characters_is_refused()
    {
        var before = await Snapshot();

        var response = await agenda.PutAsync($"/v1/appointments/{new string('a', 2000)}", Json(Valid));

        await AssertProblem(response, HttpStatusCode.BadRequest, "externalId");
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task No_bearer_and_a_wrong_key_are_401()
    {
        var before = await Snapshot();

        var anonymous = await api.CreateClient().PutAsync("/v1/appointments/existing", Json(Valid));
        var wrongKey = await api.WithKey("rra_bad_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").PutAsync("/v1/appointments/existing", Json(Valid));
        var garbage = await api.WithKey("hello").GetAsync("/v1/appointments/existing");
        var basic = api.CreateClient();
        basic.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz");

        await AssertProblem(anonymous, HttpStatusCode.Unauthorized);
        await AssertProblem(wrongKey, HttpStatusCode.Unauthorized);
        await AssertProblem(garbage, HttpStatusCode.Unauthorized);
        await AssertProblem(await basic.GetAsync("/v1/appointments/existing"), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.Forbidden, (await api.WithKey(managerKey).DeleteAsync("/v1/appointments/existing")).StatusCode);
        Assert.Equal(before, await Snapshot());
    }

    [Fact]
    public async Task Another_tenants_key_sees_404()
    {
        var before = await Snapshot();
        var other = api.WithKey((await api.CreateTenantAsync("intruder")).ApiKey);

        await AssertProblem(await other.GetAsync("/v1/appointments/existing"), HttpStatusCode.NotFound);
        await AssertProblem(await other.DeleteAsync("/v1/appointments/existing"), HttpStatusCode.NotFound);
        Assert.Equal(before, await Snapshot());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task AssertProblem(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"expected an error on '{field}': {problem}");
        }
    }

    private async Task<string> Snapshot()
    {
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<string>(
            """
            select coalesce((select json_agg(a order by id)::text from appointments a), '') ||
                   coalesce((select json_agg(m order by id)::text from messages m), '')
            """);
    }
}
