using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using RappelRdv.Contracts;

namespace RappelRdv.Api.OpenApi;

/// <summary>
/// Examples on the main bodies, written as Contracts records and serialized with the Api's own
/// JSON options, so an example cannot drift from the shape the Api really reads and writes.
/// </summary>
internal sealed class SchemaExamples : IOpenApiSchemaTransformer
{
    private static readonly DateTimeOffset StartsAt = new(2026, 12, 3, 8, 30, 0, TimeSpan.Zero);

    private static readonly Dictionary<Type, object> Examples = new()
    {
        [typeof(AppointmentRequest)] = new AppointmentRequest(
            "2026-12-03T09:30:00+01:00", 30, new CitizenRequest("06 12 34 56 78", "Awa", "Diallo", "sms"), "RSA",
            new LocationRequest("UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "04 94 00 00 00"), "in_person"),
        [typeof(AppointmentView)] = new AppointmentView(
            "rdv-42", StartsAt, 30, "scheduled", null, new CitizenView("+33612345678", "sms", false), "RSA",
            new LocationView("UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "+33494000000"), "in_person",
            [
                new MessageView(Guid.Parse("3f2c1d7e-5b8a-4e1f-9c0d-6a7b8c9d0e1f"), "confirmation", "sms", StartsAt.AddDays(-6), "sent",
                    StartsAt.AddDays(-6).AddSeconds(3), "SM0123456789abcdef0123456789abcdef", 1, null),
                new MessageView(Guid.Parse("0b6f5e0e-8d7a-4cf1-9a57-2d1f7c1c2a11"), "reminder", "sms", StartsAt.AddDays(-2), "pending",
                    null, null, null, null),
            ]),
        [typeof(OutcomeRequest)] = new OutcomeRequest("no_show"),
        [typeof(TenantRequest)] = new TenantRequest(
            "var-cd83", "Département du Var", "Europe/Paris",
            [new ReminderStepRequest("sms", "P2D"), new ReminderStepRequest("voice", "PT3H", OnlyIfUnconfirmed: true)],
            new QuietHoursRequest("20:00", "08:30"), HoldoutPercent: 10, Webhook: new WebhookRequest("https://agenda.example.fr/rappel/events")),
        [typeof(TenantKeys)] = new TenantKeys("var-cd83", "rra_var-cd83_3q2RmH1xGm0r0bqLr0cW1g6rT8yJ2xQm", "rrm_var-cd83_Yx3mQ0tW7pLr9sKb2nV4cZ8dF1gH6jAe",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        [typeof(NoShowStats)] = new NoShowStats("2026-11-01", "2026-11-30", "service",
            [new NoShowRow("RSA", 120, 96, 12, 4, 6, 2, 0.111), new NoShowRow("PMI", 80, 70, 3, 2, 5, 0, 0.04)],
            new NoShowCounts(200, 166, 15, 6, 11, 2, 0.083)),
    };

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonPropertyInfo is null && Examples.TryGetValue(context.JsonTypeInfo.Type, out var example))
        {
            var options = context.ApplicationServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
            schema.Examples = [JsonSerializer.SerializeToNode(example, example.GetType(), options)!];
        }

        return Task.CompletedTask;
    }
}
