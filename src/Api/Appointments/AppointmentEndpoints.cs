using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
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
            // Not async: the handler's own task is handed back as it is (one state machine less a request).
            .AddEndpointFilter((context, next) =>
                context.HttpContext.GetRouteValue("externalId") is string id && AppointmentValidation.IsValidExternalId(id)
                    ? next(context)
                    : ValueTask.FromResult<object?>(InvalidExternalId()));

        group.MapPut("/", Put)
            .WithName("PutAppointment")
            .WithSummary("Create or update an appointment")
            .WithDescription(
                "Idempotent upsert keyed by the agenda's own id: 201 the first time, 200 after. The same body again changes "
                + "nothing; a new `startsAt` is a reschedule (the plan is replaced and a confirmation asked again). "
                + "`startsAt` must carry an offset; the phone may be written the French way and is stored in E.164.")
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", Get)
            .WithName("GetAppointment")
            .WithSummary("Read an appointment and its messages")
            .WithDescription("The appointment as stored, its status, and every planned, sent or received message with its due time (UTC).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/", Delete)
            .WithName("CancelAppointment")
            .WithSummary("Cancel an appointment (by the service)")
            .WithDescription("Nothing pending is sent; the citizen is told of the cancellation when the tenant's `notifyOnCancel` is on. "
                + "Cancelling again changes nothing.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("/outcome", SetOutcome)
            .WithName("SetAppointmentOutcome")
            .WithSummary("Record what happened: honoured, no_show or excused")
            .WithDescription("`honoured` and `no_show` only once `startsAt` has passed (409 before), `excused` at any time. The outcome feeds the no-show statistics.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private static async Task<Results<Created<AppointmentView>, Ok<AppointmentView>, ValidationProblem, ProblemHttpResult>> Put(
        string externalId, JsonBody<AppointmentRequest> body, HttpContext context, AppointmentStore store, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var data = AppointmentValidation.Validate(body.Value, errors);
        if (data is null)
        {
            return errors.ToResult();
        }

        var tenant = context.Tenant();
        var result = await store.UpsertAsync(tenant.Id, tenant.Settings, externalId, data, cancellationToken);
        if (result.Outcome == WriteOutcome.Conflict)
        {
            return Problems.Conflict(result.Problem!);
        }

        var view = result.View ?? await store.GetAsync(tenant.Id, externalId, cancellationToken);
        return result.Outcome == WriteOutcome.Created
            ? TypedResults.Created($"/v1/appointments/{externalId}", view!)
            : TypedResults.Ok(view!);
    }

    private static async Task<Results<Ok<AppointmentView>, ProblemHttpResult>> Get(
        string externalId, ClaimsPrincipal user, AppointmentStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(user.TenantId(), externalId, cancellationToken) is { } view
            ? TypedResults.Ok(view)
            : NotFound(externalId);

    private static async Task<Results<Ok<AppointmentView>, ProblemHttpResult>> Delete(
        string externalId, HttpContext context, AppointmentStore store, CancellationToken cancellationToken)
    {
        var tenant = context.Tenant();
        var result = await store.CancelByServiceAsync(tenant.Id, tenant.Settings, externalId, cancellationToken);
        return result.Outcome switch
        {
            WriteOutcome.NotFound => NotFound(externalId),
            WriteOutcome.Conflict => Problems.Conflict(result.Problem!),
            _ => TypedResults.Ok((await store.GetAsync(tenant.Id, externalId, cancellationToken))!),
        };
    }

    private static async Task<Results<Ok<AppointmentView>, ValidationProblem, ProblemHttpResult>> SetOutcome(
        string externalId, JsonBody<OutcomeRequest> body, ClaimsPrincipal user, AppointmentStore store, CancellationToken cancellationToken)
    {
        if (body.Value.Outcome is null || !Outcomes.All.Contains(body.Value.Outcome))
        {
            var errors = new FieldErrors();
            errors.Add("outcome", "Must be 'honoured', 'no_show' or 'excused'.");
            return errors.ToResult();
        }

        var result = await store.SetOutcomeAsync(user.TenantId(), externalId, body.Value.Outcome, cancellationToken);
        return result.Outcome switch
        {
            WriteOutcome.NotFound => NotFound(externalId),
            WriteOutcome.Conflict => Problems.Conflict(result.Problem!),
            _ => TypedResults.Ok((await store.GetAsync(user.TenantId(), externalId, cancellationToken))!),
        };
    }

    // Another tenant's appointment is indistinguishable from one that does not exist.
    private static ProblemHttpResult NotFound(string externalId) => Problems.NotFound($"No appointment '{externalId}'.");

    private static ValidationProblem InvalidExternalId()
    {
        var errors = new FieldErrors();
        errors.Add("externalId", "1 to 128 characters among A-Z a-z 0-9 . _ : -");
        return errors.ToResult();
    }
}
