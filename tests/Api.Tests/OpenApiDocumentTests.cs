using System.Net;
using System.Text;
using System.Text.Json;

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
        const string confirmed = """{"type":"appointment.confirmed","timestamp":"2026-12-01T08:31:12Z","data":{"externalId":"rdv-42","status":"confirmed","channel":"sms","reply":"oui"}}""";

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
