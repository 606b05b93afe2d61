using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;
using YamlDotNet.RepresentationModel;

namespace RappelRdv.Api.Tests;

/// <summary>
/// The CloudNativePG overlay's <c>Cluster</c> and <c>Pooler</c> checked against the operator's own CRD
/// schemas, as the API server would check them on <c>kubectl apply --validate=strict</c>: types, enums,
/// required fields, and no field the CRD does not declare. The schemas are vendored in
/// <c>tests/Api.Tests/Deploy/CloudNativePg</c> (see its README: CloudNativePG v1.30.0, descriptions stripped).
/// </summary>
public sealed partial class DeployFilesTests
{
    private static string CrdFolder => Path.Combine(Root, "tests", "Api.Tests", "Deploy", "CloudNativePg");

    [Theory]
    [InlineData("Cluster", "clusters")]
    [InlineData("Pooler", "poolers")]
    public void The_cloudnative_pg_overlay_validates_against_the_operators_CRD_schemas(string kind, string crd)
    {
        var resource = OverlayResource(kind);

        Assert.Empty(CrdErrors(crd, resource));
    }

    [Fact]
    public void The_CRD_check_refuses_a_wrong_type_an_unknown_field_and_a_value_outside_an_enum()
    {
        // The check itself can fail: each of these is a mistake kubectl apply would refuse.
        var cluster = OverlayResource("Cluster");
        cluster["spec"]!["instances"] = "three";
        Assert.Contains(CrdErrors("clusters", cluster), e => e.StartsWith("/spec/instances", StringComparison.Ordinal));

        var misspelt = OverlayResource("Cluster");
        misspelt["spec"]!["instance"] = 3;
        Assert.NotEmpty(CrdErrors("clusters", misspelt));

        var pooler = OverlayResource("Pooler");
        pooler["spec"]!["pgbouncer"]!["poolMode"] = "statement-ish";
        Assert.Contains(CrdErrors("poolers", pooler), e => e.StartsWith("/spec/pgbouncer/poolMode", StringComparison.Ordinal));
    }

    private static JsonObject OverlayResource(string kind)
    {
        var folder = Path.Combine(Root, "deploy", "overlays", "cloudnative-pg");
        return Directory.GetFiles(folder, "*.yaml")
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .SelectMany(YamlDocumentsAsJson)
            .Single(d => (string?)d["kind"] == kind);
    }

    private static List<string> CrdErrors(string crd, JsonObject resource)
    {
        var vendored = JsonNode.Parse(File.ReadAllText(Path.Combine(CrdFolder, $"{crd}.schema.json")))!;
        var schema = Strict(vendored["openAPIV3Schema"]!.DeepClone());
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
        var result = JsonSchema.FromText(schema.ToJsonString()).Evaluate(resource, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : [.. result.Details.Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))];
    }

    /// <summary>
    /// Kubernetes' structural schemas: an object with declared properties holds only those, unless it says it
    /// keeps unknown fields; <c>nullable</c> is OpenAPI's, not JSON Schema's.
    /// </summary>
    private static JsonObject Strict(JsonNode node)
    {
        var schema = node.AsObject();
        foreach (var (_, child) in schema.ToList())
        {
            switch (child)
            {
                case JsonObject nested:
                    Strict(nested);
                    break;
                case JsonArray items:
                    foreach (var item in items.OfType<JsonObject>())
                    {
                        Strict(item);
                    }

                    break;
            }
        }

        if (schema["properties"] is JsonObject && schema["additionalProperties"] is null
            && schema["x-kubernetes-preserve-unknown-fields"]?.GetValue<bool>() != true)
        {
            schema["additionalProperties"] = false;
        }

        if (schema["nullable"]?.GetValue<bool>() == true && schema["type"] is JsonValue type)
        {
            schema["type"] = new JsonArray(type.GetValue<string>(), "null");
        }

        return schema;
    }

    /// <summary>YAML to JSON with YAML's core schema: an unquoted 3 is a number, "3" a string, true a boolean.</summary>
    private static IEnumerable<JsonObject> YamlDocumentsAsJson(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path)))
        {
            stream.Load(reader);
        }

        return stream.Documents.Select(d => Json(d.RootNode)).OfType<JsonObject>();

        JsonNode? Json(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, Json(c.Value)))),
            YamlSequenceNode list => new JsonArray([.. list.Children.Select(Json)]),
            YamlScalarNode { Style: not YamlDotNet.Core.ScalarStyle.Plain } quoted => JsonValue.Create(quoted.Value),
            YamlScalarNode { Value: null or "~" or "null" } => null,
            YamlScalarNode { Value: "true" or "false" } boolean => JsonValue.Create(boolean.Value == "true"),
            YamlScalarNode plain when Integer().IsMatch(plain.Value!) => JsonValue.Create(long.Parse(plain.Value!, CultureInfo.InvariantCulture)),
            YamlScalarNode plain => JsonValue.Create(plain.Value),
            _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType} in {path}"),
        };
    }

    [GeneratedRegex(@"^[-+]?\d+$")]
    private static partial Regex Integer();
}
