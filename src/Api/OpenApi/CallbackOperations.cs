using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using RappelRdv.Api.RdvSolidarites;

namespace RappelRdv.Api.OpenApi;

/// <summary>
/// The routes that others than agendas call: Twilio's form posts (signed with
/// <c>X-Twilio-Signature</c>, answered with TwiML) and RDV-Solidarités' webhook (signed with
/// <c>X-Lapin-Signature</c>). Their handlers read forms and raw bytes, so the document says here
/// what they take.
/// </summary>
internal sealed class CallbackOperations : IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, (string Summary, string Description, string[] Fields, bool Twiml)> Twilio = new()
    {
        ["/twilio/sms/inbound"] = ("A citizen's SMS (Twilio)", "A reply to a reminder: OUI, NON, REPORTER, STOP, START or anything else; answered with TwiML (an acknowledgement or nothing).", ["From", "To", "Body", "MessageSid"], true),
        ["/twilio/sms/answer-status"] = ("The status of an SMS answered by TwiML (Twilio)", "The `action` of the TwiML that answered a citizen's SMS: records the answer's `MessageSid`, so that it is deleted at Twilio with the appointment (`a`, in the URL Twilio was given) or soon when it belongs to none.", ["MessageSid", "MessageStatus"], false),
        ["/twilio/sms/status"] = ("An SMS status callback (Twilio)", "How a sent SMS fared: `sent`, `delivered`, `undelivered`, `failed` with its `ErrorCode`.", ["MessageSid", "MessageStatus", "ErrorCode"], false),
        ["/twilio/voice/{messageId}/{token}"] = ("The script of a reminder call (Twilio)", "Fetched by Twilio when the call is answered: the message in French and a keypad prompt (1 confirm, 2 cancel, 3 reschedule). The token ties the URL to the message.", ["CallSid", "AnsweredBy"], true),
        ["/twilio/voice/{messageId}/{token}/gather"] = ("A key pressed during a reminder call (Twilio)", "Applies key 1, 2 or 3 like the SMS reply with the same meaning.", ["CallSid", "Digits"], true),
        ["/twilio/voice/{messageId}/{token}/status"] = ("How a reminder call ended (Twilio)", "Records the call's end and plans another try when no one answered.", ["CallSid", "CallStatus", "AnsweredBy"], false),
    };

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var path = "/" + context.Description.RelativePath?.TrimStart('/');
        if (path.StartsWith("/v1/webhooks/rdv-solidarites/", StringComparison.Ordinal))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(Header(LapinSignature.Header,
                "The hex HMAC-SHA256 of the raw body, keyed with the tenant's `rdvSolidarites.secret`."));
            operation.Security = [];
            return Task.CompletedTask;
        }

        var key = Twilio.Keys.FirstOrDefault(k => Normalise(path) == k);
        if (key is null)
        {
            return Task.CompletedTask;
        }

        var (summary, description, fields, twiml) = Twilio[key];
        operation.Summary = summary;
        operation.Description = description + " Called by Twilio only, never by an agenda.";
        operation.OperationId = "Twilio" + string.Concat(key.Split('/', '{', '}').Where(s => s.Length > 0 && s != "twilio")
            .Select(s => char.ToUpperInvariant(s[0]) + s[1..]));
        operation.Security = [];
        operation.Parameters ??= [];
        operation.Parameters.Add(Header("X-Twilio-Signature",
            "Twilio's signature of `PublicBaseUrl` + path + the form's parameters, with the account's auth token. A bad or missing one is 403."));
        var form = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema>() };
        foreach (var field in fields)
        {
            form.Properties[field] = new OpenApiSchema { Type = JsonSchemaType.String };
        }

        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, OpenApiMediaType> { ["application/x-www-form-urlencoded"] = new() { Schema = form } },
        };
        operation.Responses = new OpenApiResponses
        {
            ["200"] = twiml
                ? new OpenApiResponse
                {
                    Description = "TwiML for Twilio.",
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["text/xml"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = JsonValue.Create("<Response/>") },
                    },
                }
                : new OpenApiResponse { Description = "Recorded (or not ours: ignored)." },
            ["403"] = Components.ProblemResponse(context.Document, "Missing or wrong `X-Twilio-Signature`: nothing changed."),
        };
        return Task.CompletedTask;
    }

    // The route constraint does not show in the document's path: "{messageId:guid}" is "{messageId}".
    private static string Normalise(string path) => path.Replace(":guid", "", StringComparison.Ordinal).TrimEnd('/');

    private static OpenApiParameter Header(string name, string description) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = true,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
    };
}
