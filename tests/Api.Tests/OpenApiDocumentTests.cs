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
