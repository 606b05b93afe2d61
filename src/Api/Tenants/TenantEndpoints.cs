using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Audit;
using RappelRdv.Reminders.Phones;
using RappelRdv.Reminders.RdvSolidarites;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Tenants;

/// <summary>The operator's API: create, read, change tenants, rotate their keys, erase a citizen's data on request.</summary>
internal static class TenantEndpoints
{
    public static void MapTenants(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/tenants")
            .WithTags("Tenants (operator)")
            .RequireAuthorization(Policies.Admin);

        group.MapPost("/", Create)
            .WithName("CreateTenant")
            .WithSummary("Create a tenant")
            .WithDescription("A tenant is one département or service. Its `apiKey` (agenda), `managerKey` (statistics, "
                + "dashboard) and `webhookSecret` (signature of the events) are shown in this answer only.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{slug}", Update)
            .WithName("UpdateTenant")
            .WithSummary("Replace a tenant's settings")
            .WithDescription("The whole settings object: a field left out takes its default. `quietHours: null` means no quiet hours.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("/{slug}", Get)
            .WithName("GetTenant")
            .WithSummary("Read a tenant's settings")
            .WithDescription("The settings with their defaults applied; never a key or a secret.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{slug}/keys", RotateKeys)
            .WithName("RotateTenantKeys")
            .WithSummary("Rotate a tenant's keys")
            .WithDescription("Replaces the keys named in the optional body `{ \"rotate\": [\"apiKey\"] }` (any of apiKey, managerKey, "
                + "webhookSecret; all three without a body) and shows only the new ones, in this answer only. The old apiKey and managerKey "
                + "stop at once; the old webhookSecret still signs events, beside the new one, for 24 hours.")
            .Accepts<KeyRotationRequest>(isOptional: true, "application/json")
            .Produces<RotatedKeys>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{slug}/erasures", ErasePersonalData)
            .WithName("ErasePersonalData")
            .WithSummary("Erase a citizen's personal data on request")
            .WithDescription("For a citizen who asks that their data be erased before `retentionDays`: every appointment of this "
                + "tenant with this number loses its phone, names and message texts at once (and the messages are deleted at Twilio "
                + "within minutes); what the statistics need stays, and nothing pending is sent. The number's STOP, if any, stays. "
                + "Written to the audit trail without the number.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static async Task<Results<Ok<ErasureResult>, ValidationProblem, ProblemHttpResult>> ErasePersonalData(
        string slug, JsonBody<ErasureRequest> request, NpgsqlDataSource db, AppointmentStore store, AuditTrail audit, HttpContext http,
        CancellationToken cancellationToken)
    {
        if (!FrenchPhone.TryParse(request.Value.Phone, out var phone))
        {
            var errors = new FieldErrors();
            errors.Add("phone", "A phone number: French (ten digits from 0) or international (E.164, from +).");
            return errors.ToResult();
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var tenantId = await connection.QuerySingleOrDefaultAsync<long?>("select id from tenants where slug = @slug", new { slug });
        if (tenantId is null)
        {
            return Problems.NotFound($"No tenant '{slug}'.");
        }

        var erased = await store.ErasePersonalDataOfPhoneAsync(tenantId.Value, phone.E164, cancellationToken);
        await audit.WriteAsync(tenantId, AuditTrail.Actions.ErasePersonalData, "operator", http.RemoteAddress(),
            $"{erased} appointments", cancellationToken);
        return TypedResults.Ok(new ErasureResult(erased));
    }

    private static async Task<Results<Created<TenantKeys>, ValidationProblem, ProblemHttpResult>> Create(
        JsonBody<TenantRequest> request, NpgsqlDataSource db, TimeProvider clock, WebhookPolicy configuration, RdvSolidaritesSecrets rdvsSecrets,
        CancellationToken cancellationToken)
    {
        var (body, raw) = (request.Value, request.Raw);
        var errors = new FieldErrors();
        var settings = TenantValidation.Validate(body, QuietHoursNull(raw), AllowPrivateWebhooks(configuration), errors, rdvsSecrets: rdvsSecrets);
        if (settings is null)
        {
            return errors.ToResult();
        }

        var slug = body.Slug!;
        var keys = new TenantKeys(slug, TenantSecrets.NewKey(KeyRole.Api, slug),
            TenantSecrets.NewKey(KeyRole.Manager, slug), TenantSecrets.NewWebhookSecret());
        var now = clock.GetUtcNow();

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(
            """
            insert into tenants (slug, name, settings, api_key_hash, manager_key_hash, webhook_secret, history_key, created_at, updated_at)
            values (@slug, @name, @settings::jsonb, @apiKeyHash, @managerKeyHash, @webhookSecret, @historyKey, @now, @now)
            on conflict (slug) do nothing
            """,
            new
            {
                slug,
                name = body.Name,
                settings = settings.ToJson(),
                apiKeyHash = TenantSecrets.Hash(keys.ApiKey),
                managerKeyHash = TenantSecrets.Hash(keys.ManagerKey),
                webhookSecret = keys.WebhookSecret,
                historyKey = TenantSecrets.NewHistoryKey(),
                now,
            });

        return inserted == 0
            ? Problems.Conflict($"A tenant with the slug '{slug}' already exists.")
            : TypedResults.Created($"/v1/admin/tenants/{slug}", keys);
    }

    private static async Task<Results<Ok<TenantView>, ValidationProblem, ProblemHttpResult>> Update(
        string slug, JsonBody<TenantRequest> request, NpgsqlDataSource db, TenantCache cache, TimeProvider clock, WebhookPolicy configuration,
        RdvSolidaritesSecrets rdvsSecrets, CancellationToken cancellationToken)
    {
        var (body, raw) = (request.Value, request.Raw);
        var errors = new FieldErrors();
        var settings = TenantValidation.Validate(body, QuietHoursNull(raw), AllowPrivateWebhooks(configuration), errors, slug, rdvsSecrets);
        if (settings is null)
        {
            return errors.ToResult();
        }

        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(
            "update tenants set name = @name, settings = @settings::jsonb, updated_at = @now where slug = @slug",
            new { slug, name = body.Name, settings = settings.ToJson(), now = clock.GetUtcNow() });
        // Other Apis hear of it through tenant_changed; this one forgets it now, before answering.
        cache.Forget(slug);
        return updated == 0 ? Problems.NotFound($"No tenant '{slug}'.") : TypedResults.Ok(ToView(slug, body.Name!, settings));
    }

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> Get(string slug, NpgsqlDataSource db, CancellationToken cancellationToken)
    {
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<SettingsRow>(
            "select name, settings::text as settings from tenants where slug = @slug", new { slug });
        return row is null
            ? Problems.NotFound($"No tenant '{slug}'.")
            : TypedResults.Ok(ToView(slug, row.Name, TenantSettings.FromJson(row.Settings)));
    }

    /// <summary>
    /// Replaces the keys named in <c>{ "rotate": [...] }</c> (all three without a body) and shows
    /// only the new ones. The old apiKey and managerKey stop at once (on the other Apis within the
    /// notification's delay); the old webhookSecret still signs events, beside the new one, for
    /// 24 hours.
    /// </summary>
    private static async Task<IResult> RotateKeys(
        string slug, HttpRequest request, NpgsqlDataSource db, TenantCache cache, TimeProvider clock, CancellationToken cancellationToken)
    {
        var rotate = TenantSecrets.Rotatable;
        if (request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0))
        {
            // The body is optional here, so it is read by hand with the same reader as every other body.
            var bound = await JsonBody<KeyRotationRequest>.BindAsync(request.HttpContext, null!);
            if (bound.Problem is { } problem)
            {
                return problem;
            }

            var errors = new FieldErrors();
            if (bound.Value.Rotate is not { Count: > 0 } names || names.Any(n => !TenantSecrets.Rotatable.Contains(n)))
            {
                errors.Add("rotate", $"A list of one or more of: {string.Join(", ", TenantSecrets.Rotatable)}.");
                return errors.ToResult();
            }

            rotate = [.. names.Distinct()];
        }

        var apiKey = rotate.Contains("apiKey") ? TenantSecrets.NewKey(KeyRole.Api, slug) : null;
        var managerKey = rotate.Contains("managerKey") ? TenantSecrets.NewKey(KeyRole.Manager, slug) : null;
        var webhookSecret = rotate.Contains("webhookSecret") ? TenantSecrets.NewWebhookSecret() : null;
        var now = clock.GetUtcNow();
        await using var connection = await db.OpenConnectionAsync(cancellationToken);
        var updated = await connection.ExecuteAsync(
            """
            update tenants set
                api_key_hash = coalesce(@apiKeyHash, api_key_hash),
                manager_key_hash = coalesce(@managerKeyHash, manager_key_hash),
                previous_webhook_secret = case when @webhookSecret::text is null then previous_webhook_secret else webhook_secret end,
                previous_webhook_secret_until = case when @webhookSecret::text is null then previous_webhook_secret_until else @previousUntil end,
                webhook_secret = coalesce(@webhookSecret, webhook_secret),
                updated_at = @now
            where slug = @slug
            """,
            new
            {
                slug,
                apiKeyHash = apiKey is null ? null : TenantSecrets.Hash(apiKey),
                managerKeyHash = managerKey is null ? null : TenantSecrets.Hash(managerKey),
                webhookSecret,
                previousUntil = now + TenantSecrets.PreviousWebhookSecretLifetime,
                now,
            });
        cache.Forget(slug);
        return updated == 0 ? Problems.NotFound($"No tenant '{slug}'.") : TypedResults.Ok(new RotatedKeys(slug, apiKey, managerKey, webhookSecret));
    }

    private sealed record SettingsRow(string Name, string Settings);

    internal static TenantView ToView(string slug, string name, TenantSettings s) => new(
        slug, name, s.TimeZone,
        [.. s.Reminders.Select(StepView)],
        s.QuietHours is { } q ? new QuietHoursView(q.From.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture), q.To.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture)) : null,
        s.NotifyOnCreate, s.NotifyOnChange, s.NotifyOnCancel, s.HoldoutPercent, s.RetentionDays,
        s.WebhookUrl is { } url ? new WebhookView(url) : null,
        s.RdvSolidaritesSecret is not null ? new RdvSolidaritesView(true, RdvSolidarites.RdvSolidaritesApiSettings.ToView(s.RdvSolidaritesApi)) : null,
        new BudgetView(s.Budget?.MonthlySegments, s.Budget?.MonthlyCallMinutes),
        s.Managers ?? [],
        TenantTextsValidation.ToView(s.Texts),
        s.RiskReminders is { } risk
            ? new RiskRemindersView(risk.MinNoShows, risk.LookbackDays, [.. risk.Add.Select(StepView)], risk.HoldoutPercent)
            : null);

    private static ReminderStepView StepView(ReminderStep step) => new(step.Channel, step.Before, step.OnlyIfUnconfirmed);

    private static bool QuietHoursNull(byte[] raw)
    {
        using var document = JsonDocument.Parse(raw);
        return document.RootElement.ValueKind == JsonValueKind.Object
            && document.RootElement.TryGetProperty("quietHours", out var quiet)
            && quiet.ValueKind == JsonValueKind.Null;
    }

    private static bool AllowPrivateWebhooks(WebhookPolicy policy) => policy.AllowPrivateNetworks;
}
