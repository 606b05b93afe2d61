using System.Security.Claims;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Appointments;

/// <summary>The agenda's API: push, reschedule, cancel and close appointments.</summary>
internal static class AppointmentEndpoints
{
    public static void MapAppointments(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/appointments/{externalId}")
            .WithTags("Appointments (agenda)")
            .RequireAuthorization(Policies.Agenda)
            .AddEndpointFilter(async (context, next) =>
                context.HttpContext.GetRouteValue("externalId") is string id && AppointmentValidation.IsValidExternalId(id)
                    ? await next(context)
                    : InvalidExternalId());

        group.MapPut("/", Put);
        group.MapGet("/", Get);
        group.MapDelete("/", Delete);
        group.MapPost("/outcome", SetOutcome);
    }

    private static async Task<IResult> Put(
        string externalId, HttpRequest request, AppointmentStore store, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync<AppointmentRequest>(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var errors = new FieldErrors();
        var data = AppointmentValidation.Validate(body!, errors);
        if (data is null)
        {
            return errors.ToResult();
        }

        var tenant = request.HttpContext.Tenant();
        var result = await store.UpsertAsync(tenant.Id, tenant.Settings, externalId, data, cancellationToken);
        if (result.Outcome == WriteOutcome.Conflict)
        {
            return Problems.Conflict(result.Problem!);
        }

        var view = result.View ?? await store.GetAsync(tenant.Id, externalId, cancellationToken);
        return result.Outcome == WriteOutcome.Created
            ? TypedResults.Created($"/v1/appointments/{externalId}", view)
            : TypedResults.Ok(view);
    }

    private static async Task<IResult> Get(string externalId, ClaimsPrincipal user, AppointmentStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(user.TenantId(), externalId, cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : NotFound(externalId);

    private static async Task<IResult> Delete(
        string externalId, HttpContext context, AppointmentStore store, CancellationToken cancellationToken)
    {
        var tenant = context.Tenant();
        var result = await store.CancelByServiceAsync(tenant.Id, tenant.Settings, externalId, cancellationToken);
        return result.Outcome switch
        {
            WriteOutcome.NotFound => NotFound(externalId),
            WriteOutcome.Conflict => Problems.Conflict(result.Problem!),
            _ => TypedResults.Ok(await store.GetAsync(tenant.Id, externalId, cancellationToken)),
        };
    }

    private static async Task<IResult> SetOutcome(
        string externalId, HttpRequest request, ClaimsPrincipal user, AppointmentStore store, CancellationToken cancellationToken)
    {
        var (body, error) = await JsonBody.ReadAsync<OutcomeRequest>(request, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        if (body!.Outcome is null || !Outcomes.All.Contains(body.Outcome))
        {
            var errors = new FieldErrors();
            errors.Add("outcome", "Must be 'honoured', 'no_show' or 'excused'.");
            return errors.ToResult();
        }

        var result = await store.SetOutcomeAsync(user.TenantId(), externalId, body.Outcome, cancellationToken);
        return result.Outcome switch
        {
            WriteOutcome.NotFound => NotFound(externalId),
            WriteOutcome.Conflict => Problems.Conflict(result.Problem!),
            _ => TypedResults.Ok(await store.GetAsync(user.TenantId(), externalId, cancellationToken)),
        };
    }

    // Another tenant's appointment is indistinguishable from one that does not exist.
    private static IResult NotFound(string externalId) => Problems.NotFound($"No appointment '{externalId}'.");

    private static IResult InvalidExternalId()
    {
        var errors = new FieldErrors();
        errors.Add("externalId", "1 to 128 characters among A-Z a-z 0-9 . _ : -");
        return errors.ToResult();
    }
}
