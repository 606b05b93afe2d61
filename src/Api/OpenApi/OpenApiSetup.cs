using Scalar.AspNetCore;

namespace RappelRdv.Api.OpenApi;

/// <summary>
/// The OpenAPI document at <c>/openapi/v1.json</c> and its browsable reference at <c>/docs</c>.
/// Schemas come from the Contracts records and the typed results of the handlers, so a field or an
/// endpoint added in code shows in the document by itself; the transformers add only what code
/// cannot say: who calls, with which key, which errors, and the events sent to agendas.
/// </summary>
internal static class OpenApiSetup
{
    public const string DocumentPath = "/openapi/{documentName}.json";

    public static void AddRappelOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(options =>
        {
            options.OpenApiVersion = Microsoft.OpenApi.OpenApiSpecVersion.OpenApi3_1;
            options.AddSchemaTransformer<SchemaShapes>();
            options.AddSchemaTransformer<SchemaExamples>();
            options.AddOperationTransformer<OperationAccess>();
            options.AddOperationTransformer<CallbackOperations>();
            options.AddDocumentTransformer<DocumentDescription>();
            options.AddDocumentTransformer<Webhooks>();
            options.AddDocumentTransformer<SchemaShapes>();
        });

    public static void MapRappelOpenApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi(DocumentPath);
        // The reference's scripts are served from the package itself: nothing is fetched from elsewhere.
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("RappelRdv API")
            .WithOpenApiRoutePattern(DocumentPath));
    }
}
