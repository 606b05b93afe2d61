using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RappelRdv.Api.OpenApi;

/// <summary>
/// What the schema generator cannot know, so that the document says what the Api enforces and no more
/// (a client generated from it, or a validating proxy, must take what the Api takes):
/// <list type="bullet">
/// <item>An instant written by our own converter is still a <c>date-time</c> string.</item>
/// <item>A request record's positional parameters all look required to the generator, while the Api
/// requires only the fields marked <c>[Required]</c> (the rest take defaults, and may be <c>null</c>);
/// a required field is refused when <c>null</c>, so its schema does not allow <c>null</c>.</item>
/// <item>An answer always has every property (<c>DefaultIgnoreCondition.Never</c>), those with a default
/// value included; only a property marked to be left out when null (the keys of <c>RotatedKeys</c>) may be absent.</item>
/// </list>
/// Applied to each wire type wherever it appears, nested ones (<c>citizen</c>) included.
/// </summary>
internal sealed class SchemaShapes : IOpenApiSchemaTransformer, IOpenApiDocumentTransformer
{
    /// <summary>
    /// A nested request (<c>citizen</c>) becomes a <c>oneOf</c> of null and its reference only once the
    /// components are built, after the schema transformers ran: there, a required one loses its null.
    /// </summary>
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        foreach (var (name, component) in document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>())
        {
            if (name.EndsWith("Request", StringComparison.Ordinal) && component is OpenApiSchema { Required: { Count: > 0 } required, Properties: { } properties })
            {
                foreach (var property in required.Where(properties.ContainsKey))
                {
                    properties[property] = WithoutNull(properties[property]);
                }
            }
        }

        return Task.CompletedTask;
    }

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type == typeof(DateTimeOffset) && schema.Type is null)
        {
            schema.Type = context.JsonTypeInfo.Type == type ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
            schema.Format = "date-time";
        }

        if (type.Namespace != "RappelRdv.Contracts" || context.JsonTypeInfo.Kind != JsonTypeInfoKind.Object || schema.Properties is not { Count: > 0 } properties)
        {
            return Task.CompletedTask;
        }

        var request = type.Name.EndsWith("Request", StringComparison.Ordinal);
        var required = context.JsonTypeInfo.Properties
            .Where(p => request ? IsMarkedRequired(p) : !MayBeLeftOut(p))
            .Select(p => p.Name)
            .ToHashSet();
        schema.Required = required.Count > 0 ? required : null;
        if (request)
        {
            foreach (var name in required.Where(properties.ContainsKey))
            {
                properties[name] = WithoutNull(properties[name]);
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsMarkedRequired(JsonPropertyInfo property) =>
        property.AttributeProvider is PropertyInfo info && info.IsDefined(typeof(RequiredAttribute));

    private static bool MayBeLeftOut(JsonPropertyInfo property) =>
        property.AttributeProvider is PropertyInfo info && info.GetCustomAttribute<JsonIgnoreAttribute>() is { Condition: not JsonIgnoreCondition.Never };

    /// <summary>The same schema, <c>null</c> no longer allowed: a nullable type loses its null, a nullable reference its <c>oneOf</c>.</summary>
    private static IOpenApiSchema WithoutNull(IOpenApiSchema property)
    {
        if (property is OpenApiSchema { OneOf: { Count: 2 } oneOf } && oneOf.Count(o => o.Type == JsonSchemaType.Null) == 1)
        {
            return oneOf.Single(o => o.Type != JsonSchemaType.Null);
        }

        if (property is OpenApiSchema { Type: { } kind } plain && kind.HasFlag(JsonSchemaType.Null) && kind != JsonSchemaType.Null)
        {
            plain.Type = kind & ~JsonSchemaType.Null;
        }

        return property;
    }
}
