using System.Net;
using System.Net.Http.Json;
using Dapper;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>
/// A citizen asks that their data be erased before the retention delay: the operator erases, for one
/// tenant, every appointment with that number; the others, and other tenants', stay as they were.
/// </summary>
public sealed class ErasureRequestTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private HttpClient var = null!;
    private HttpClient herault = null!;

    public async Task InitializeAsync()
    {
        await api.Database.ResetAsync();
        api.Clock.AdjustTime(new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero));
        var = api.WithKey((await api.CreateTenantAsync("var", new { slug = "var", name = "Var", quietHours = (object?)null })).ApiKey);
        herault = api.WithKey((await api.CreateTenantAsync("herault", new { slug = "herault", name = "Hérault", quietHours = (object?)null })).ApiKey);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private static object Appointment(string phone, string startsAt = "2026-12-03T09:30:00+01:00") => new
    {
        startsAt,
        citizen = new { phone, firstName = "Awa", lastName = "Diallo" },
        service = "RSA",
        location = new { name = "UTS Toulon Ouest", address = "12 rue Picot, 83000 Toulon" },
    };

    [Fact]
    public async Task Every_appointment_of_the_number_in_that_tenant_is_erased_and_nothing_else()
    {
        (await var.PutAsJsonAsync("/v1/appointments/awa-1", Appointment("06 12 34 56 78"))).EnsureSuccessStatusCode();
        (await var.PutAsJsonAsync("/v1/appointments/awa-2", Appointment("+33 6 12 34 56 78", "2026-12-10T14:00:00+01:00"))).EnsureSuccessStatusCode();
        (await var.PutAsJsonAsync("/v1/appointments/other", Appointment("07 98 76 54 32"))).EnsureSuccessStatusCode();
        (await herault.PutAsJsonAsync("/v1/appointments/awa-34", Appointment("06 12 34 56 78"))).EnsureSuccessStatusCode();
        await using var connection = await api.Database.DataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("update messages set provider_id = 'SM' || md5(id::text) where appointment_id in (select id from appointments where external_id = 'awa-1')");

        var response = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/var/erasures", new { phone = "0612345678" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new ErasureResult(2), await response.Content.ReadFromJsonAsync<ErasureResult>());
        var rows = (await connection.QueryAsync<(string ExternalId, string? Phone, string? FirstName, bool Erased)>(
            "select external_id, phone, first_name, erased_at is not null from appointments order by external_id")).ToList();
        Assert.Equal(
            [("awa-1", null, null, true), ("awa-2", null, null, true), ("awa-34", "+33612345678", "Awa", false), ("other", "+33798765432", "Awa", false)],
            rows);
        // Nothing pending goes to a number that is no more, and the texts sent are deleted at Twilio too.
        Assert.Equal(0, await connection.ExecuteScalarAsync<int>(
            "select count(*) from messages m join appointments a on a.id = m.appointment_id where a.erased_at is not null and m.status = 'pending'"));
        Assert.True(await connection.ExecuteScalarAsync<int>("select count(*) from twilio_deletions") > 0);
        var audit = await connection.QuerySingleAsync<(string Action, string Actor, string Detail)>("select action, actor, detail from audit");
        Assert.Equal(("erase_personal_data", "operator", "2 appointments"), audit);
        Assert.DoesNotContain("+33612345678", await connection.ExecuteScalarAsync<string>("select string_agg(row_to_json(a)::text, '') from audit a"));

        // Asked again: nothing is left to erase.
        var again = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/var/erasures", new { phone = "+33612345678" });
        Assert.Equal(new ErasureResult(0), await again.Content.ReadFromJsonAsync<ErasureResult>());
    }

    [Fact]
    public async Task A_number_that_is_not_one_an_unknown_tenant_and_no_admin_key_are_refused()
    {
        var bad = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/var/erasures", new { phone = "Awa" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("\"phone\"", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var unknown = await api.Admin().PostAsJsonAsync("/v1/admin/tenants/nowhere/erasures", new { phone = "06 12 34 56 78" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var agenda = await var.PostAsJsonAsync("/v1/admin/tenants/var/erasures", new { phone = "06 12 34 56 78" });
        Assert.Equal(HttpStatusCode.Unauthorized, agenda.StatusCode);
    }
}
