using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RappelRdv.Api.OpenApi;

/// <summary>
/// Two things the schema generator cannot know. An instant written by our own converter is still a
/// <c>date-time</c> string. And a request record's positional parameters all look required to it,
/// while the Api requires only the fields marked <c>[Required]</c> (the rest take defaults).
/// </summary>
internal sealed class SchemaShapes : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) ?? context.JsonTypeInfo.Type;
        if (type == typeof(DateTimeOffset) && schema.Type is null)
        {
            schema.Type = context.JsonTypeInfo.Type == type ? JsonSchemaType.String : JsonSchemaType.String | JsonSchemaType.Null;
            schema.Format = "date-time";
        }

        if (context.JsonPropertyInfo is null && type.Namespace == "RappelRdv.Contracts" && type.Name.EndsWith("Request", StringComparison.Ordinal))
        {
            var required = context.JsonTypeInfo.Properties
                .Where(p => p.AttributeProvider is PropertyInfo property && property.IsDefined(typeof(RequiredAttribute)))
                .Select(p => p.Name)
                .ToHashSet();
            schema.Required = required.Count > 0 ? required : null;
        }

        return Task.CompletedTask;
    }
}
