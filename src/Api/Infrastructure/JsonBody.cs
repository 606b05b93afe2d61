using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using ProblemDetails = Microsoft.AspNetCore.Mvc.ProblemDetails;
using Microsoft.Extensions.Options;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// A JSON body bound from one of the <c>Contracts</c> records with the Api's configured JSON options.
/// Rather than <c>[FromBody]</c>: that answers a bad body with a bare 400 (or throws), while every way
/// a body can be wrong here (too large, empty, not JSON, a field of the wrong type) must be a 4xx
/// problem that names the field, before the handler runs and so before anything is written.
/// </summary>
/// <remarks>
/// As a parameter it tells the endpoint what it accepts (the schema of <typeparamref name="T"/> in
/// the OpenAPI document), that it may answer 400 and 413, and adds the filter that answers them.
/// </remarks>
internal sealed class JsonBody<T> : IEndpointParameterMetadataProvider
    where T : class
{
    private JsonBody(T? value, byte[] raw, IResult? problem)
    {
        Value = value!;
        Raw = raw;
        Problem = problem;
    }

    /// <summary>The body; only read by a handler, which runs only when it was bound.</summary>
    public T Value { get; }

    /// <summary>The bytes as received, for the few rules that must tell an explicit <c>null</c> from an absent field.</summary>
    public byte[] Raw { get; }

    internal IResult? Problem { get; }

    public static async ValueTask<JsonBody<T>> BindAsync(HttpContext context, ParameterInfo parameter)
    {
        var request = context.Request;
        if (request.ContentLength > JsonBodies.MaxBytes)
        {
            return Failed(JsonBodies.TooLarge());
        }

        var raw = await ReadAsync(request, context.RequestAborted);
        if (raw is null)
        {
            return Failed(JsonBodies.TooLarge());
        }

        if (raw.Length == 0)
        {
            return Failed(JsonBodies.Invalid("body", "A JSON body is required."));
        }

        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            if (JsonSerializer.Deserialize<T>(raw, options) is not { } value)
            {
                return Failed(JsonBodies.Invalid("body", "A JSON object is required."));
            }

            var errors = new FieldErrors();
            ControlCharacters.CheckJson(raw, errors);
            return errors.Any ? Failed(errors.ToResult()) : new JsonBody<T>(value, raw, null);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return Failed(JsonBodies.Invalid(field, e.Path is null or "$"
                ? "The body is not valid JSON."
                : "This value does not have the expected type, or the JSON is malformed here."));
        }
    }

    /// <summary>The body's bytes; null when it is larger than <see cref="JsonBodies.MaxBytes"/>.</summary>
    private static async Task<byte[]?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        // The usual case, a Content-Length (an agenda's PUT; above the limit it was refused before): read
        // straight into an array of that size, with no intermediate buffer to fill, zero and copy on every
        // request. The server ends the body stream at that length.
        if (request.ContentLength is { } length)
        {
            var exact = new byte[length];
            var filled = 0;
            int read;
            while (filled < exact.Length && (read = await request.Body.ReadAsync(exact.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }

            return filled < exact.Length ? exact[..filled] : exact;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int count;
        while ((count = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, count);
            if (buffer.Length > JsonBodies.MaxBytes)
            {
                return null;
            }
        }

        return buffer.ToArray();
    }

    public static void PopulateMetadata(ParameterInfo parameter, EndpointBuilder builder)
    {
        builder.Metadata.Add(new AcceptsMetadata(["application/json"], typeof(T)));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(HttpValidationProblemDetails), ["application/problem+json"]));
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status413PayloadTooLarge, typeof(ProblemDetails), ["application/problem+json"]));
        var position = parameter.Position;
        builder.FilterFactories.Add((_, next) => invocation =>
            invocation.Arguments[position] is JsonBody<T> { Problem: { } problem }
                ? ValueTask.FromResult<object?>(problem)
                : next(invocation));
    }

    private static JsonBody<T> Failed(IResult problem) => new(null, [], problem);
}

internal static class JsonBodies
{
    public const int MaxBytes = 64 * 1024;

    public static ValidationProblem Invalid(string field, string message)
    {
        var errors = new FieldErrors();
        errors.Add(field, message);
        return errors.ToResult();
    }

    public static ProblemHttpResult TooLarge() =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"A request body may be at most {MaxBytes / 1024} KiB.");
}
