using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RappelRdv.Api.Infrastructure;

namespace RappelRdv.Api.OpenApi;

/// <summary>
/// Which key each <c>/v1</c> operation takes, read from its authorization policy, and the errors
/// every such operation can answer besides its own: 401 and 429 for a key, 503 while the
/// database does not answer, 400 for a bad <c>externalId</c> in the path.
/// </summary>
internal sealed class OperationAccess : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var path = "/" + context.Description.RelativePath?.TrimStart('/');
        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return Task.CompletedTask;
        }

        var document = context.Document;
        operation.Responses ??= [];
        var policy = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null);
        var keys = policy switch
        {
            Policies.Agenda => [DocumentDescription.ApiKey],
            Policies.Manager => [DocumentDescription.ApiKey, DocumentDescription.ManagerKey],
            Policies.Admin => new[] { DocumentDescription.AdminKey },
            _ => [],
        };

        if (keys.Length > 0)
        {
            // Alternatives: any one of the listed keys is enough.
            operation.Security = [.. keys.Select(key => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(key, document)] = [] })];
            Add(operation, StatusCodes.Status401Unauthorized, Components.ProblemResponse(document,
                $"No `Authorization: Bearer` header, or a key that is not {string.Join(" or ", keys.Select(k => $"`{k}`"))}."));
            if (policy == Policies.Agenda)
            {
                Add(operation, StatusCodes.Status403Forbidden, Components.ProblemResponse(document,
                    "A valid `managerKey`: it reads statistics but never changes an appointment."));
            }

            Add(operation, StatusCodes.Status429TooManyRequests, Components.ProblemResponse(document,
                "Too many failed authentications from this address within a minute; see `Retry-After`."));
        }

        if (path.Contains("{externalId}", StringComparison.Ordinal))
        {
            Add(operation, StatusCodes.Status400BadRequest, Components.ProblemResponse(document,
                "A bad field, named under `errors` (`externalId`: 1 to 128 of `A-Z a-z 0-9 . _ : -`).", Components.ValidationProblem));
        }

        Add(operation, StatusCodes.Status503ServiceUnavailable, Components.ProblemResponse(document,
            "The database does not answer: nothing was changed; retry later."));
        return Task.CompletedTask;
    }

    private static void Add(OpenApiOperation operation, int status, OpenApiResponse response)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (!operation.Responses!.ContainsKey(key))
        {
            operation.Responses[key] = response;
        }
    }
}
