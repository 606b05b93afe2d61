using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using RappelRdv.Client;
using RappelRdv.Client.Models;

namespace RappelRdv.Api.Tests;

/// <summary>
/// An agenda's integration as a client generated from docs/openapi.json alone would do it (Kiota,
/// generated at build time; see the test project's file): if the document lies about a path, a body
/// or a status, this client cannot do its work.
/// </summary>
public sealed class GeneratedClientTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    public Task InitializeAsync() => api.Database.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_generated_client_creates_a_tenant_pushes_reschedules_cancels_closes_and_reads_statistics()
    {
        var keys = await Client(api.Admin()).V1.Admin.Tenants.PostAsync(new TenantRequest
        {
            Slug = "generated",
            Name = "Département généré",
            Reminders = [new ReminderStepRequest { Channel = "sms", Before = "P2D" }],
        });
        Assert.Equal("generated", keys!.Slug);
        var agenda = Client(api.WithKey(keys.ApiKey!));
        var appointment = agenda.V1.Appointments["rdv-gen-1"];

        var created = await appointment.PutAsync(new AppointmentRequest
        {
            StartsAt = "2026-12-10T09:30:00+01:00",
            DurationMinutes = 30,
            Citizen = new CitizenRequest { Phone = "06 12 34 56 78", FirstName = "Awa" },
            Service = "RSA",
            Location = new LocationRequest { Name = "UTS Toulon Ouest" },
        });
        Assert.Equal("+33612345678", created!.Citizen!.Phone);
        Assert.Equal(new DateTimeOffset(2026, 12, 10, 8, 30, 0, TimeSpan.Zero), created.StartsAt);
        var reminder = Assert.Single(created.Messages!, m => m.Kind == "reminder");
        Assert.Equal(new DateTimeOffset(2026, 12, 8, 8, 30, 0, TimeSpan.Zero), reminder.DueAt);

        var read = await appointment.GetAsync();
        Assert.Equal("scheduled", read!.Status);
        Assert.Equal("RSA", read.Service);

        var rescheduled = await appointment.PutAsync(new AppointmentRequest
        {
            StartsAt = "2026-12-12T14:00:00+01:00",
            Citizen = new CitizenRequest { Phone = "06 12 34 56 78" },
        });
        Assert.Equal(new DateTimeOffset(2026, 12, 12, 13, 0, 0, TimeSpan.Zero), rescheduled!.StartsAt);
        Assert.Contains(rescheduled.Messages!, m => m.Kind == "reminder" && m.DueAt == new DateTimeOffset(2026, 12, 10, 13, 0, 0, TimeSpan.Zero));

        var cancelled = await appointment.DeleteAsync();
        Assert.Equal("cancelled_by_service", cancelled!.Status);
        Assert.DoesNotContain(cancelled.Messages!, m => m.Kind == "reminder" && m.Status == "pending");

        var past = agenda.V1.Appointments["rdv-gen-past"];
        await past.PutAsync(new AppointmentRequest { StartsAt = "2026-11-20T10:00:00+01:00", Citizen = new CitizenRequest { Phone = "06 12 34 56 78" }, Service = "RSA" });
        var closed = await past.Outcome.PostAsync(new OutcomeRequest { Outcome = "no_show" });
        Assert.Equal("no_show", closed!.Outcome);

        var stats = await Client(api.WithKey(keys.ManagerKey!)).V1.Stats.NoShow.GetAsync(request =>
        {
            request.QueryParameters.From = "2026-11-01";
            request.QueryParameters.To = "2026-12-31";
            request.QueryParameters.By = "service";
        });
        Assert.Equal(1, stats!.Total!.NoShow);
        Assert.Equal(1.0, stats.Total.NoShowRate);
        Assert.Equal("RSA", Assert.Single(stats.Rows!, r => r.NoShow == 1).Key);
    }

    [Fact]
    public async Task The_generated_client_reads_a_bad_field_and_a_missing_appointment_as_the_documented_problems()
    {
        var keys = await Client(api.Admin()).V1.Admin.Tenants.PostAsync(new TenantRequest { Slug = "generated-errors", Name = "Erreurs" });
        var agenda = Client(api.WithKey(keys!.ApiKey!));

        var invalid = await Assert.ThrowsAsync<HttpValidationProblemDetails>(() => agenda.V1.Appointments["rdv-bad"].PutAsync(
            new AppointmentRequest { StartsAt = "2026-12-10T09:30:00", Citizen = new CitizenRequest { Phone = "12345" } }));
        Assert.Equal(400, invalid.Status);
        Assert.Contains("startsAt", invalid.Errors!.AdditionalData.Keys);
        Assert.Contains("citizen.phone", invalid.Errors.AdditionalData.Keys);

        var missing = await Assert.ThrowsAsync<ProblemDetails>(() => agenda.V1.Appointments["rdv-none"].GetAsync());
        Assert.Equal(404, missing.Status);
    }

    private static RappelClient Client(HttpClient http) =>
        new(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = http.BaseAddress!.ToString().TrimEnd('/') });
}
