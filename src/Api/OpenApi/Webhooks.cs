using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using RappelRdv.Contracts;

namespace RappelRdv.Api.OpenApi;

/// <summary>One event the service POSTs to a tenant's <c>webhook.url</c>.</summary>
/// <param name="Payload">The record sent as the body; its schema is derived from it.</param>
internal sealed record WebhookEvent(string Type, string Summary, string Description, Type Payload, object Example);

/// <summary>
/// The events agendas receive, described under the document's OpenAPI 3.1 <c>webhooks</c>.
/// A new event is one more line here (with its payload record, when it is not an <see cref="AgendaEvent"/>).
/// </summary>
internal static class WebhookCatalogue
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 8, 31, 12, TimeSpan.Zero);

    public static readonly IReadOnlyList<WebhookEvent> All =
    [
        Appointment(AgendaEventTypes.Confirmed, "The citizen confirmed",
            "By SMS (OUI, 1…) or key 1 on a call. `reply` is the citizen's text, `channel` how it came.",
            new AgendaEventData("rdv-42", "confirmed", Channel: "sms", Reply: "oui merci")),
        Appointment(AgendaEventTypes.CancelledByCitizen, "The citizen cancelled",
            "By SMS (NON, 2…) or key 2. Nothing more is sent for this appointment; the slot can be given to someone else.",
            new AgendaEventData("rdv-42", "cancelled_by_citizen", Channel: "sms", Reply: "NON")),
        Appointment(AgendaEventTypes.RescheduleRequested, "The citizen asks for another time",
            "By SMS (REPORTER, 3…) or key 3. The service should call the citizen back and PUT the new `startsAt`.",
            new AgendaEventData("rdv-42", "reschedule_requested", Channel: "voice", Reply: "3")),
        Appointment(AgendaEventTypes.MessageFailed, "A reminder could not be delivered",
            "The SMS or call failed for good (unknown number, landline, unreachable). `messageId` is the message in `GET`'s `messages`, `error` the provider's reason.",
            new AgendaEventData("rdv-42", "scheduled", Channel: "sms", MessageId: "0b6f5e0e-8d7a-4cf1-9a57-2d1f7c1c2a11", Error: "30003: Unreachable destination handset")),
        Appointment(AgendaEventTypes.OptedOut, "The citizen opted out",
            "STOP (or the carrier's opt-out): no message of any kind goes to that number from this tenant until the citizen sends START.",
            new AgendaEventData("rdv-42", "scheduled", Channel: "sms", Reply: "STOP")),
        Budget(BudgetEventTypes.ThresholdReached, "The month's budget is 80 % used",
            "Once a month per measure (`segments` or `minutes`), when the message about to leave reaches 80 % of the tenant's `budget`.",
            new BudgetEventData("2026-12", "segments", 16000, 20000, 80.0)),
        Budget(BudgetEventTypes.Exhausted, "The month's budget is used up",
            "Once a month per measure. From now on reminders and confirmations are `skipped` with `budget_exhausted` until the next month "
                + "or a higher budget; cancellations, change notices and answers to citizens still go.",
            new BudgetEventData("2026-12", "segments", 20000, 20000, 100.0)),
    ];

    private static WebhookEvent Budget(string type, string summary, string description, BudgetEventData data) =>
        new(type, summary, description, typeof(BudgetEvent), new BudgetEvent(type, At, data));

    private static WebhookEvent Appointment(string type, string summary, string description, AgendaEventData data) =>
        new(type, summary, description, typeof(AgendaEvent), new AgendaEvent(type, At, data));
}

/// <summary>Describes <see cref="WebhookCatalogue"/> under <c>webhooks</c>, with the Standard Webhooks headers.</summary>
internal sealed class Webhooks : IOpenApiDocumentTransformer
{
    public async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var json = context.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        document.Components!.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Webhooks = new Dictionary<string, IOpenApiPathItem>();
        foreach (var hook in WebhookCatalogue.All)
        {
            var schemaName = hook.Payload.Name;
            if (!document.Components.Schemas.ContainsKey(schemaName))
            {
                document.Components.Schemas[schemaName] = await context.GetOrCreateSchemaAsync(hook.Payload, cancellationToken: cancellationToken);
            }

            var operation = new OpenApiOperation
            {
                OperationId = "event_" + hook.Type.Replace('.', '_'),
                Summary = hook.Summary,
                Description = hook.Description + " Delivered at least once: the same `webhook-id` on every retry, retried with backoff "
                    + "for at least 24 hours on a timeout or an answer other than 2xx.",
                Tags = new HashSet<OpenApiTagReference> { new("Events (to the agenda)", document) },
                Parameters =
                [
                    Header("webhook-id", "The event's id, the same on every retry: use it to drop duplicates.", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"),
                    Header("webhook-timestamp", "Unix seconds when this attempt was sent; refuse one too far from your clock.", "1796113872"),
                    Header("webhook-signature",
                        "`v1,<base64 HMAC-SHA256 of \"{webhook-id}.{webhook-timestamp}.{body}\">`, keyed with the bytes of the tenant's "
                        + "`webhookSecret` after `whsec_`. Several signatures may be given, separated by spaces: one matching is enough.",
                        "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDDq9ySvM="),
                ],
                RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new()
                        {
                            // The payload's schema, with this event's type as the only value of its `type`.
                            Schema = new OpenApiSchema
                            {
                                AllOf =
                                [
                                    new OpenApiSchemaReference(schemaName, document),
                                    new OpenApiSchema
                                    {
                                        Properties = new Dictionary<string, IOpenApiSchema>
                                        {
                                            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Const = hook.Type },
                                        },
                                    },
                                ],
                            },
                            Example = JsonSerializer.SerializeToNode(hook.Example, hook.Example.GetType(), json),
                        },
                    },
                },
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse { Description = "Any 2xx acknowledges the event; the body is not read." },
                },
            };
            document.Webhooks[hook.Type] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Post] = operation } };
        }

        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag
        {
            Name = "Events (to the agenda)",
            Description = "What the service POSTs to the tenant's `webhook.url`, signed the Standard Webhooks way.",
        });
    }

    private static OpenApiParameter Header(string name, string description, string example) => new()
    {
        Name = name,
        In = ParameterLocation.Header,
        Required = true,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        Example = System.Text.Json.Nodes.JsonValue.Create(example),
    };
}
