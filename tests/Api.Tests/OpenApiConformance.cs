using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace RappelRdv.Api.Tests;

/// <summary>
/// Sits in every client <see cref="ApiFactory"/> makes: each answer to a <c>/v1</c> operation of
/// the committed <c>docs/openapi.json</c> must have a status the document lists for that operation,
/// and a JSON body valid against the schema given for it; and each JSON request body the Api
/// accepted (a 2xx) must be valid against the operation's request schema, since a client generated
/// from the document, or a validating proxy, must be able to send what the Api takes. So the whole
/// suite checks the document against what the Api really takes and answers, not only the tests
/// written for it: a <c>required</c> that the Api does not enforce, a <c>null</c> it accepts but the
/// document refuses, fail the test that sent it.
/// </summary>
internal sealed class OpenApiConformance : DelegatingHandler
{
    private static readonly Lazy<JsonObject> Document = new(() => JsonNode.Parse(File.ReadAllText(CommittedDocument.Path))!.AsObject());

    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var sent = request.Content?.Headers.ContentType?.MediaType is { } sentType && sentType.EndsWith("json", StringComparison.Ordinal)
            ? (sentType, await request.Content.ReadAsStringAsync(cancellationToken))
            : default((string Type, string Body)?);
        var response = await base.SendAsync(request, cancellationToken);
        var path = request.RequestUri!.AbsolutePath;
        if (!path.StartsWith("/v1/", StringComparison.Ordinal) || Operation(path, request.Method.Method) is not { } operation)
        {
            return response;
        }

        var (template, method, node) = operation;
        if (response.IsSuccessStatusCode && sent is var (requestType, requestBody)
            && RequestProblems(Document.Value, node, $"{method} {template}", requestType, requestBody).ToList() is { Count: > 0 } problems)
        {
            throw new InvalidOperationException(
                $"{method} {template} took this body ({(int)response.StatusCode}), which its request schema in docs/openapi.json refuses: {string.Join("; ", problems)}\n{requestBody}");
        }

        var status = ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture);
        var responses = node["responses"]!.AsObject();
        var documented = responses[status] ?? responses["default"]
            ?? throw new InvalidOperationException($"{method} {template} answered {status}, which docs/openapi.json does not list for it ({string.Join(", ", responses.Select(r => r.Key))}).");

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is null || !mediaType.EndsWith("json", StringComparison.Ordinal))
        {
            return response;
        }

        var schemaNode = documented["content"]?[mediaType]?["schema"]
            ?? throw new InvalidOperationException($"{method} {template} {status} answered {mediaType}, which docs/openapi.json does not describe.");
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var schema = Schemas.GetOrAdd($"{method} {template} {status} {mediaType}", _ => Compile(schemaNode));
        var result = schema.Evaluate(JsonNode.Parse(body), new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (!result.IsValid)
        {
            throw new InvalidOperationException(
                $"{method} {template} {status}: the body does not match its schema in docs/openapi.json: {string.Join("; ", Errors(result))}\n{body}");
        }

        return response;
    }

    /// <summary>How an event body differs from its description under the document's <c>webhooks</c> (nothing when it matches).</summary>
    public static IEnumerable<string> EventProblems(string body)
    {
        var type = JsonNode.Parse(body)?["type"]?.GetValue<string>();
        var schemaNode = type is null ? null : Document.Value["webhooks"]?[type]?["post"]?["requestBody"]?["content"]?["application/json"]?["schema"];
        if (schemaNode is null)
        {
            return [$"An event of type '{type}', which docs/openapi.json does not list under webhooks: {body}"];
        }

        var result = Schemas.GetOrAdd("event " + type, _ => Compile(schemaNode)).Evaluate(JsonNode.Parse(body), new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid ? [] : [$"{type}: {string.Join("; ", Errors(result))}\n{body}"];
    }

    /// <summary>
    /// How a request body differs from what <paramref name="document"/> says the operation takes (nothing when it
    /// matches); an operation without a JSON request body in the document refuses none.
    /// </summary>
    public static IEnumerable<string> RequestProblems(JsonObject document, string method, string path, string body)
    {
        var operation = Operation(document, path, method)?.Operation
            ?? throw new InvalidOperationException($"{method} {path} is not in the document");
        return RequestProblems(document, operation, $"{method} {path} (given document)", "application/json", body);
    }

    private static IEnumerable<string> RequestProblems(JsonObject document, JsonNode operation, string cacheKey, string mediaType, string body)
    {
        if (operation["requestBody"]?["content"]?[mediaType]?["schema"] is not { } schemaNode)
        {
            return [];
        }

        var schema = ReferenceEquals(document, Document.Value)
            ? Schemas.GetOrAdd($"request {cacheKey} {mediaType}", _ => Compile(document, schemaNode))
            : Compile(document, schemaNode);
        var result = schema.Evaluate(JsonNode.Parse(body), new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid ? [] : Errors(result);
    }

    private static IEnumerable<string> Errors(EvaluationResults result) =>
        result.Details.Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"));

    /// <summary>The operation whose path template matches, segment by segment.</summary>
    private static (string Template, string Method, JsonNode Operation)? Operation(string path, string method) =>
        Operation(Document.Value, path, method);

    private static (string Template, string Method, JsonNode Operation)? Operation(JsonObject document, string path, string method)
    {
        var segments = path.TrimEnd('/').Split('/');
        foreach (var (template, item) in document["paths"]!.AsObject())
        {
            var parts = template.Split('/');
            if (parts.Length == segments.Length
                && parts.Zip(segments).All(p => p.First.StartsWith('{') || p.First == p.Second)
                && item![method.ToLowerInvariant()] is { } operation)
            {
                return (template, method, operation);
            }
        }

        return null;
    }

    /// <summary>An OpenAPI 3.1 schema is JSON Schema 2020-12; its references go to the components, here under <c>$defs</c>.</summary>
    private static JsonSchema Compile(JsonNode schema) => Compile(Document.Value, schema);

    private static JsonSchema Compile(JsonObject document, JsonNode schema)
    {
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["$defs"] = document["components"]!["schemas"]!.DeepClone(),
            ["allOf"] = new JsonArray(schema.DeepClone()),
        };
        return JsonSchema.FromText(root.ToJsonString().Replace("#/components/schemas/", "#/$defs/", StringComparison.Ordinal));
    }
}
