using System.Text.Json;

namespace RappelRdv.Api.Infrastructure;

/// <summary>
/// Reads a JSON body ourselves rather than through parameter binding, so that every way a body
/// can be wrong (too large, not JSON, a field of the wrong type) is a 4xx that names the field.
/// </summary>
internal static class JsonBody
{
    public const int MaxBytes = 64 * 1024;

    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        var (value, _, error) = await ReadWithRawAsync<T>(request, cancellationToken);
        return (value, error);
    }

    public static async Task<(T? Value, byte[] Raw, IResult? Error)> ReadWithRawAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, [], TooLarge());
        }

        var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                return (null, [], TooLarge());
            }
        }

        if (buffer.Length == 0)
        {
            return (null, [], Invalid("body", "A JSON body is required."));
        }

        try
        {
            var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
            var raw = buffer.ToArray();
            var value = JsonSerializer.Deserialize<T>(raw, options);
            if (value is null)
            {
                return (null, raw, Invalid("body", "A JSON object is required."));
            }

            var errors = new FieldErrors();
            ControlCharacters.CheckJson(raw, errors);
            return errors.Any ? (null, raw, errors.ToResult()) : (value, raw, null);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return (null, [], Invalid(field, e.Path is null or "$"
                ? "The body is not valid JSON."
                : "This value does not have the expected type, or the JSON is malformed here."));
        }
    }

    private static IResult Invalid(string field, string message)
    {
        var errors = new FieldErrors();
        errors.Add(field, message);
        return errors.ToResult();
    }

    private static IResult TooLarge() =>
        Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Body too large", $"A request body may be at most {MaxBytes / 1024} KiB.");
}
