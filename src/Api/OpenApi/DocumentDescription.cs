using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace RappelRdv.Api.OpenApi;

/// <summary>The document's header: what the API is, its three keys, its tags, and no server address.</summary>
internal sealed class DocumentDescription : IOpenApiDocumentTransformer
{
    public const string ApiKey = "apiKey";
    public const string ManagerKey = "managerKey";
    public const string AdminKey = "adminKey";

    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "RappelRdv API",
            Version = "v1",
            Summary = "SMS and voice reminders for social-service appointments, with the citizens' answers.",
            Description =
                """
                Agendas push appointments (`PUT /v1/appointments/{externalId}`); the service sends SMS and voice
                reminders at the right time, reads the citizens' answers (OUI / NON / REPORTER, or keys 1, 2, 3 on a call)
                and tells the agenda through signed events (see `webhooks`). Managers read the no-show rate; the operator
                creates tenants and their keys.

                Every `/v1` call carries `Authorization: Bearer <key>`: the tenant's `apiKey` (agenda), its `managerKey`
                (statistics), or the operator's admin key. Errors are `application/problem+json` (RFC 9457); a 400 names
                each bad field under `errors`. Instants are written in UTC (`2026-12-03T08:30:00Z`).

                The repository's `docs/API.md` explains the concepts, the lifecycle of an appointment and the sending rules.
                """,
        };

        // The address depends on where the service is deployed; a fixed document is one that can be committed and reviewed.
        document.Servers = [];

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [ApiKey] = Bearer("The tenant's agenda key, `rra_<slug>_…`: appointments, and statistics."),
            [ManagerKey] = Bearer("The tenant's manager key, `rrm_<slug>_…`: statistics and the dashboard, nothing that changes an appointment."),
            [AdminKey] = Bearer("The operator's key (`Admin__ApiKey`): tenants and their keys."),
        };

        // Named here so that the operations added by transformers can point at them.
        await Components.EnsureAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>(document, context, Components.Problem, cancellationToken);
        await Components.EnsureAsync<HttpValidationProblemDetails>(document, context, Components.ValidationProblem, cancellationToken);

        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Appointments (agenda)", Description = "What an agenda does with its `apiKey`: push, reschedule, cancel, close appointments." },
            new() { Name = "Statistics (managers)", Description = "The no-show rate, with the `managerKey` or the `apiKey`." },
            new() { Name = "Tenants (operator)", Description = "The operator's API, with the admin key: tenants, their settings and their keys." },
            new() { Name = "RDV-Solidarités (webhooks)", Description = "Called by RDV-Solidarités itself, signed with the secret it shares with the tenant." },
            new() { Name = "Twilio callbacks", Description = "Called by Twilio only, signed with `X-Twilio-Signature`; form posts answered with TwiML. Not for agendas." },
        };
    }

    private static OpenApiSecurityScheme Bearer(string description) => new()
    {
        Type = SecuritySchemeType.Http,
        Scheme = "bearer",
        Description = description,
    };
}

/// <summary>Component schemas the transformers refer to by name.</summary>
internal static class Components
{
    public const string Problem = "ProblemDetails";
    public const string ValidationProblem = "HttpValidationProblemDetails";

    public static async Task EnsureAsync<T>(
        OpenApiDocument document, OpenApiDocumentTransformerContext context, string name, CancellationToken cancellationToken)
    {
        document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        if (!document.Components.Schemas.ContainsKey(name))
        {
            document.Components.Schemas[name] = await context.GetOrCreateSchemaAsync(typeof(T), cancellationToken: cancellationToken);
        }
    }

    public static OpenApiResponse ProblemResponse(OpenApiDocument? document, string description, string schema = Problem) => new()
    {
        Description = description,
        Content = new Dictionary<string, OpenApiMediaType>
        {
            ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(schema, document) },
        },
    };
}
