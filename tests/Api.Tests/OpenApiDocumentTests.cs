using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The OpenAPI document the Api serves is the one committed as <c>docs/openapi.json</c>, so that
/// every change to the API shows in review. <c>tools/openapi-snapshot.sh</c> rewrites the file.
/// </summary>
public sealed class OpenApiDocumentTests(ApiFactory api) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task The_served_document_is_the_committed_one()
    {
        var served = await api.CreateClient().GetStringAsync("/openapi/v1.json");
        var committed = CommittedDocument.Path;

        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI_SNAPSHOT") == "1")
        {
            await File.WriteAllTextAsync(committed, served.ReplaceLineEndings("\n"));
            return;
        }

        Assert.True(File.Exists(committed), $"{committed} is missing: run tools/openapi-snapshot.sh");
        Assert.True(
            (await File.ReadAllTextAsync(committed)).ReplaceLineEndings("\n") == served.ReplaceLineEndings("\n"),
            "The served OpenAPI document differs from docs/openapi.json: run tools/openapi-snapshot.sh and review the diff.");
    }

    [Fact]
    public async Task Docs_serves_a_browsable_reference_of_the_document()
    {
        var client = api.CreateClient();

        var page = await client.GetAsync("/docs");

        page.EnsureSuccessStatusCode();
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"url\":\"openapi/v1.json\"", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        // The page's script comes from the Api itself, not from a CDN.
        var script = await client.GetAsync("/docs/scalar.js");
        script.EnsureSuccessStatusCode();
        Assert.True((await script.Content.ReadAsByteArrayAsync()).Length > 100_000);
    }
}

/// <summary>The checks that hold the suite's answers and events to the document do refuse what it does not describe.</summary>
public sealed class OpenApiConformanceTests
{
    [Fact]
    public async Task An_answer_with_an_undocumented_status_or_the_wrong_shape_is_refused()
    {
        var undocumented = Client(HttpStatusCode.Gone, """{"title":"gone"}""");
        var wrongShape = Client(HttpStatusCode.OK, """{"from":"2026-01-01","rows":"none"}""");
        var right = Client(HttpStatusCode.OK, """
            {"from":"2026-01-01","to":"2026-01-31","by":"week","rows":[],
             "total":{"appointments":0,"honoured":0,"noShow":0,"excused":0,"cancelled":0,"unknown":0,"noShowRate":null}}
            """);

        var gone = await Assert.ThrowsAsync<InvalidOperationException>(() => undocumented.GetAsync("/v1/stats/no-show"));
        var shape = await Assert.ThrowsAsync<InvalidOperationException>(() => wrongShape.GetAsync("/v1/stats/no-show"));
        (await right.GetAsync("/v1/stats/no-show")).EnsureSuccessStatusCode();

        Assert.Contains("410", gone.Message, StringComparison.Ordinal);
        Assert.Contains("/rows", shape.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_event_unlike_its_webhook_is_refused()
    {
        // As EventOutbox writes it: every field, null ones included.
        const string confirmed = """{"type":"appointment.confirmed","timestamp":"2026-12-01T08:31:12Z","data":{"externalId":"rdv-42","status":"confirmed","channel":"sms","reply":"oui","messageId":null,"error":null}}""";

        Assert.Empty(OpenApiConformance.EventProblems(confirmed));
        Assert.NotEmpty(OpenApiConformance.EventProblems(confirmed.Replace("\"externalId\":\"rdv-42\",", "", StringComparison.Ordinal)));
        Assert.NotEmpty(OpenApiConformance.EventProblems(confirmed.Replace("appointment.confirmed", "appointment.teleported", StringComparison.Ordinal)));
    }

    private static HttpClient Client(HttpStatusCode status, string json) =>
        new(new OpenApiConformance { InnerHandler = new Answer(status, json) }) { BaseAddress = new Uri("http://localhost") };

    private sealed class Answer(HttpStatusCode status, string json) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") });
    }
}

/// <summary>
/// CONTRACT §9.3: the document says what the Api takes and answers, no more. The suite's ordinary requests,
/// sent through <see cref="OpenApiConformance"/>, must be accepted by the document's request schemas and their
/// answers by its response schemas; a <c>required</c> the Api does not enforce is caught.
/// </summary>
public sealed class OpenApiRequestConformanceTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const string PhoneOnly = """{"startsAt":"2026-12-03T09:30:00+01:00","citizen":{"phone":"06 12 34 56 78"}}""";

    /// <summary>The contract's own example (§3).</summary>
    private const string ContractExample = """
        {
          "startsAt": "2026-12-03T09:30:00+01:00",
          "durationMinutes": 30,
          "citizen": { "phone": "06 12 34 56 78", "firstName": "Awa", "lastName": "Diallo", "channel": "sms" },
          "service": "RSA",
          "location": { "name": "UTS Toulon Ouest", "address": "12 rue Picot, 83000 Toulon", "phone": "04 94 00 00 00" },
          "mode": "in_person"
        }
        """;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task The_ordinary_requests_and_their_answers_are_what_the_document_describes()
    {
        // Every call below goes through OpenApiConformance: a 2xx whose body the document refuses, or an answer unlike it, throws.
        var admin = api.Admin();
        var created = await admin.PostAsync("/v1/admin/tenants", Json("""
            {"slug":"doc","name":"Doc","quietHours":{"from":"20:00","to":"08:30"},"reminders":[{"channel":"sms","before":"P2D"}],
             "webhook":null,"budget":{"monthlySegments":null},"managers":["agent@var.fr"],"notifyOnCreate":null}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var keys = (await created.Content.ReadFromJsonAsync<RappelRdv.Contracts.TenantKeys>())!;
        var agenda = api.WithKey(keys.ApiKey);

        Assert.Equal(HttpStatusCode.Created, (await agenda.PutAsync("/v1/appointments/phone-only", Json(PhoneOnly))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await agenda.PutAsync("/v1/appointments/contract", Json(ContractExample))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agenda.PutAsync("/v1/appointments/contract", Json(ContractExample.Replace("\"RSA\"", "null", StringComparison.Ordinal)))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agenda.GetAsync("/v1/appointments/phone-only")).StatusCode);
        api.Clock.Advance(TimeSpan.FromDays(7));
        Assert.Equal(HttpStatusCode.OK, (await agenda.PostAsync("/v1/appointments/contract/outcome", Json("""{"outcome":"no_show"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync("/v1/admin/tenants/doc", Json("""{"name":"Doc renamed","quietHours":null}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/v1/admin/tenants/doc/keys", Json("""{"rotate":["webhookSecret"]}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/v1/admin/tenants/doc/erasures", Json("""{"phone":"06 12 34 56 78"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await agenda.GetAsync("/v1/usage?month=2026-12")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/admin/usage?month=2026-12")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/admin/audit?tenant=doc")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/admin/tenants/doc")).StatusCode);
    }

    [Fact]
    public void A_required_the_Api_does_not_enforce_is_caught()
    {
        var document = JsonNode.Parse(File.ReadAllText(CommittedDocument.Path))!.AsObject();
        Assert.Empty(OpenApiConformance.RequestProblems(document, "PUT", "/v1/appointments/x", PhoneOnly));
        Assert.Empty(OpenApiConformance.RequestProblems(document, "PUT", "/v1/appointments/x", ContractExample));

        // What the document said before: every positional field of CitizenRequest required. The Api takes a phone alone.
        document["components"]!["schemas"]!["CitizenRequest"]!["required"] = new JsonArray("phone", "firstName", "lastName", "channel");

        var problems = OpenApiConformance.RequestProblems(document, "PUT", "/v1/appointments/x", PhoneOnly).ToList();
        Assert.Contains(problems, p => p.Contains("/citizen", StringComparison.Ordinal));
        Assert.Empty(OpenApiConformance.RequestProblems(document, "PUT", "/v1/appointments/x", ContractExample));
    }

    [Fact]
    public void The_three_operations_of_usage_and_audit_are_described()
    {
        using var document = CommittedDocument.Load();
        foreach (var path in new[] { "/v1/admin/audit", "/v1/usage", "/v1/admin/usage" })
        {
            var operation = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty("get");
            Assert.True(operation.GetProperty("summary").GetString()!.Length > 10, path);
            Assert.True(operation.GetProperty("description").GetString()!.Length > 50, path);
        }
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}

/// <summary>Where the committed document lives: <c>docs/openapi.json</c> at the repository's root.</summary>
internal static class CommittedDocument
{
    public static string Path { get; } = Find();

    public static JsonDocument Load() => JsonDocument.Parse(File.ReadAllBytes(Path));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "RappelRdv.sln")))
            {
                return System.IO.Path.Combine(dir.FullName, "docs", "openapi.json");
            }
        }

        throw new InvalidOperationException("RappelRdv.sln not found above " + AppContext.BaseDirectory);
    }
}
