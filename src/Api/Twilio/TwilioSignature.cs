using Microsoft.Extensions.Options;
using RappelRdv.Reminders.Hosting;
using RappelRdv.Reminders.Twilio;
using Twilio.Security;

namespace RappelRdv.Api.Twilio;

/// <summary>
/// Every request from Twilio is checked against <c>X-Twilio-Signature</c>: the URL Twilio called
/// (<c>PublicBaseUrl</c> + path + query) and the form parameters, signed with the auth token.
/// A bad or missing signature is a 403 and changes nothing.
/// </summary>
internal sealed class TwilioSignatureFilter(IOptions<TwilioOptions> twilio, IOptions<PublicOptions> site, ILogger<TwilioSignatureFilter> logger)
    : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        var token = twilio.Value.AuthToken;
        var signature = request.Headers["X-Twilio-Signature"].ToString();
        if (string.IsNullOrEmpty(token) || string.IsNullOrEmpty(signature) || !request.HasFormContentType)
        {
            return Forbidden();
        }

        var form = await request.ReadFormAsync(context.HttpContext.RequestAborted);
        var parameters = form.ToDictionary(p => p.Key, p => p.Value.ToString(), StringComparer.Ordinal);
        var baseUrl = site.Value.PublicBaseUrl.TrimEnd('/');
        var url = baseUrl + request.Path + request.QueryString;
        if (!new RequestValidator(token).Validate(url, parameters, signature))
        {
            logger.LogWarning("Refused a Twilio request to {Path} with a bad signature", request.Path.Value);
            return Forbidden();
        }

        // Genuine, but what is stored of it (a reply's text, SIDs, statuses) is held to the same rule as any input.
        var errors = new Infrastructure.FieldErrors();
        foreach (var (name, value) in parameters)
        {
            // An SMS may have lines: in its text, line breaks and tabs are words' separators, nothing worse.
            Infrastructure.ControlCharacters.Check(errors, name, name == "Body" ? value.Replace('\n', ' ').Replace('\r', ' ').Replace('\t', ' ') : value);
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        return await next(context);
    }

    private static IResult Forbidden() =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Bad Twilio signature",
            detail: "X-Twilio-Signature does not match this request.");
}
