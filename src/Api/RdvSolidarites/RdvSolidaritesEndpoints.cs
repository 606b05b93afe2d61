using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.RdvSolidarites;

/// <summary>
/// The webhooks RDV-Solidarités (RDV Service Public) sends, as it sends them: no key, the tenant
/// is in the path and the body is signed with the secret the tenant shares with it.
/// </summary>
internal static class RdvSolidaritesEndpoints
{
    /// <summary>A collective RDV with all its participants is a few tens of KiB; this leaves room without inviting abuse.</summary>
    public const int MaxBodyBytes = 512 * 1024;

    public static void MapRdvSolidarites(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/webhooks/rdv-solidarites/{slug}", Receive)
            .WithTags("RDV-Solidarités (webhooks)")
            .AllowAnonymous()
            .WithName("ReceiveRdvSolidaritesWebhook")
            .WithSummary("RDV-Solidarités webhook (sent by RDV-Solidarités, not by an agenda)")
            .WithDescription(
                "The URL to give RDV-Solidarités (RDV Service Public) as an outgoing webhook for the tenant in the path. No key: the body "
                + "is the JSON RDV-Solidarités sends (`data` and `meta`), signed in `X-Lapin-Signature` with the secret set in the tenant's "
                + "`rdvSolidarites.secret`. Only the `rdv` model is read; other models are answered 200 and ignored. Bodies up to "
                + $"{MaxBodyBytes / 1024} KiB.")
            .Accepts<JsonElement>("application/json")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
    }

    private static async Task<Results<Ok<RdvSolidaritesAnswer>, ValidationProblem, ProblemHttpResult>> Receive(
        string slug, HttpRequest request, TenantDirectory tenants, AppointmentStore store, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var body = await ReadCappedAsync(request, cancellationToken);
        if (body is null)
        {
            return Problems.Problem(StatusCodes.Status413PayloadTooLarge, "Body too large",
                $"A webhook body may be at most {MaxBodyBytes / 1024} KiB.");
        }

        // Nothing of the body is read before its signature is checked. An unknown tenant, a tenant
        // without a secret and a wrong signature answer alike.
        var tenant = await tenants.FindAsync(slug, cancellationToken);
        var signature = request.Headers[LapinSignature.Header].ToString().Trim();
        if (!LapinSignature.Matches(tenant?.Settings.RdvSolidaritesSecret, signature, body))
        {
            // Counted with the failed keys: past the limit, 429 (AuthFailureLimiter).
            return AuthFailureLimiter.TooMany(request.HttpContext) ?? Problems.Problem(StatusCodes.Status401Unauthorized, "Invalid signature",
                $"{LapinSignature.Header} must be the hex HMAC-SHA256 of the body, keyed with the secret shared with RDV-Solidarités for this tenant.");
        }

        var errors = new FieldErrors();
        RdvsEnvelope? envelope;
        try
        {
            envelope = JsonSerializer.Deserialize<RdvsEnvelope>(body, RdvsJson.Options);
        }
        catch (JsonException e)
        {
            errors.Add(Field(e.Path, ""), "Not the JSON of an RDV-Solidarités webhook here.");
            return errors.ToResult();
        }

        if (envelope?.Meta is not { Model: { } model, Event: { } @event } meta)
        {
            errors.Add("meta", "Required, with 'model' and 'event'.");
            return errors.ToResult();
        }

        var logger = loggers.CreateLogger("RappelRdv.Api.RdvSolidarites");
        if (model != Rdvs.ModelRdv || @event is not (Rdvs.Created or Rdvs.Updated or Rdvs.Destroyed))
        {
            // Absences, opening hours, users…: RDV-Solidarités sends every model it is subscribed to on the same URL.
            logger.LogInformation("RDV-Solidarités {Model} {Event} for tenant {Tenant} ignored", model, @event, tenant!.Slug);
            return TypedResults.Ok(new RdvSolidaritesAnswer(model, @event, []));
        }

        var timestamp = RdvSolidaritesMapping.ReadTimestamp(meta, errors);
        RdvsRdv? rdv = null;
        if (envelope.Data is not { ValueKind: JsonValueKind.Object } data)
        {
            errors.Add("data", "Required: the RDV.");
        }
        else
        {
            try
            {
                rdv = data.Deserialize<RdvsRdv>(RdvsJson.Options);
            }
            catch (JsonException e)
            {
                errors.Add(Field(e.Path, "data"), "This value does not have the type RDV-Solidarités gives it.");
            }
        }

        var change = rdv is null || timestamp is null ? null : RdvSolidaritesMapping.Map(@event, timestamp.Value, meta.WebhookReason, rdv, errors);
        if (change is null || errors.Any)
        {
            return errors.ToResult();
        }

        var results = await new RdvSolidaritesSync(store, clock, logger, tenant!, change).ApplyAsync(cancellationToken);
        return TypedResults.Ok(new RdvSolidaritesAnswer(model, @event, results));
    }

    /// <summary>The body, or null when it is larger than <see cref="MaxBodyBytes"/> (then not read further).</summary>
    private static async Task<byte[]?> ReadCappedAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                return null;
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A System.Text.Json path ("$.participations[0].user.id") as the field it names ("data.participations[0].user.id").</summary>
    private static string Field(string? path, string root)
    {
        var relative = string.IsNullOrEmpty(path) || path == "$" ? "" : path.TrimStart('$', '.');
        return (root, relative) switch
        {
            ("", "") => "body",
            ("", _) => relative,
            (_, "") => root,
            _ => relative.StartsWith('[') ? root + relative : $"{root}.{relative}",
        };
    }
}
