using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using RappelRdv.Contracts;

namespace RappelRdv.Api.Tests;

/// <summary>A tenant's texts through the operator's API, the trial's draw and the statistics by variant and by language.</summary>
public sealed class TextsTests(ApiFactory api) : IClassFixture<ApiFactory>, IAsyncLifetime
{
    private const string Reminder =
        "{service} le {day} à {time}, {place}. Une absence non prévenue retarde votre dossier. OUI pour confirmer, NON pour annuler, 3 pour reporter.";

    public Task InitializeAsync() => api.Database.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    public static TheoryData<string, string> BadTexts => new()
    {
        { """{ "templates": { "fr": { "reminder": "RDV {service} le {jour}" } } }""", "texts.templates.fr.reminder" },
        { """{ "templates": { "fr": { "reminder": "RDV {day} 😀" } } }""", "texts.templates.fr.reminder" },
        { """{ "templates": { "en": { "change": "موعد {day}" } } }""", "texts.templates.en.change" },
        { $$"""{ "templates": { "fr": { "confirmation": "{{new string('x', 250)}} {service} {place}" } } }""", "texts.templates.fr.confirmation" },
        { """{ "templates": { "fr": { "rappel": "RDV {day}" } } }""", "texts.templates.fr.rappel" },
        { """{ "templates": { "de": { "reminder": "Termin {day}" } } }""", "texts.templates.de" },
        { """{ "defaultLanguage": "de" }""", "texts.defaultLanguage" },
        { """{ "experiment": { "name": "x", "variants": { "A": {} } } }""", "texts.experiment.variants" },
        { """{ "experiment": { "variants": { "A": {}, "B": {} } } }""", "texts.experiment.name" },
        { """{ "experiment": { "name": "x", "variants": { "A": {}, "B": { "fr": { "reminder": "{lieu}" } } } } }""", "texts.experiment.variants.B.fr.reminder" },
    };

    [Theory]
    [MemberData(nameof(BadTexts))]
    public async Task A_bad_template_is_400_naming_its_field(string texts, string field)
    {
        var body = $$"""{ "slug": "var", "name": "Var", "texts": {{texts}} }""";
        var response = await api.Admin().PostAsync("/v1/admin/tenants", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task The_contract_s_texts_are_accepted_and_shown_with_a_preview_of_each_template()
    {
        await api.CreateTenantAsync("var", new
        {
            slug = "var", name = "Var",
            texts = new
            {
                defaultLanguage = "fr",
                templates = new { fr = new { reminder = Reminder } },
                // A dictionary: the properties of an anonymous object would be camel-cased ("a", "b").
                experiment = new
                {
                    name = "cout-absence",
                    variants = new Dictionary<string, object>
                    {
                        ["A"] = new { },
                        ["B"] = new { fr = new { reminder = "RDV {service} {day} à {time}, {place}. OUI/1, NON/2, 3 pour reporter." } },
                    },
                },
            },
        });

        var tenant = (await api.Admin().GetFromJsonAsync<TenantView>("/v1/admin/tenants/var"))!;

        Assert.Equal("fr", tenant.Texts!.DefaultLanguage);
        Assert.Equal(Reminder, tenant.Texts.Templates["fr"]["reminder"]);
        Assert.Equal("cout-absence", tenant.Texts.Experiment!.Name);
        Assert.Equal(["A", "B"], tenant.Texts.Experiment.Variants.Keys.Order());
        var own = Assert.Single(tenant.Texts.Preview, p => p.Source == "tenant");
        Assert.Contains("Une absence non prévenue retarde votre dossier", own.Text, StringComparison.Ordinal);
        Assert.InRange(own.Segments, 1, 2);
        Assert.Equal("GSM-7", own.Encoding);
        Assert.Single(tenant.Texts.Preview, p => p.Source == "variant" && p.Variant == "B");
        Assert.Equal(4, tenant.Texts.Preview.Count(p => p.Source == "built-in"));
    }

    [Fact]
    public async Task Appointments_are_drawn_into_variants_shown_in_GET_and_counted_by_variant_and_by_language()
    {
        var keys = await api.CreateTenantAsync("var", new
        {
            slug = "var", name = "Var",
            texts = new { experiment = new { name = "cout-absence", variants = new Dictionary<string, object> { ["A"] = new { }, ["B"] = new { } } } },
        });
        var agenda = api.WithKey(keys.ApiKey);
        var variants = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            // In the past: recorded for the statistics, nothing is sent.
            var response = await agenda.PutAsJsonAsync($"/v1/appointments/rdv-{i}", new
            {
                startsAt = "2026-11-02T09:30:00+01:00",
                citizen = new { phone = "06 12 34 56 78", language = i % 4 == 0 ? "ar" : "fr" },
            });
            var view = (await response.Content.ReadFromJsonAsync<AppointmentView>())!;
            Assert.Equal(view.Variant, (await agenda.GetFromJsonAsync<AppointmentView>($"/v1/appointments/rdv-{i}"))!.Variant);
            variants.Add(view.Variant!);
            var outcome = await agenda.PostAsJsonAsync($"/v1/appointments/rdv-{i}/outcome", new { outcome = i % 5 == 0 ? "no_show" : "honoured" });
            outcome.EnsureSuccessStatusCode();
        }

        var manager = api.WithKey(keys.ManagerKey);
        var byVariant = (await manager.GetFromJsonAsync<NoShowStats>("/v1/stats/no-show?from=2026-11-01&to=2026-11-30&by=variant"))!;
        var byLanguage = (await manager.GetFromJsonAsync<NoShowStats>("/v1/stats/no-show?from=2026-11-01&to=2026-11-30&by=language"))!;

        Assert.Equal(["A", "B"], variants.Distinct().Order());
        Assert.Equal(variants.Count(v => v == "A"), Assert.Single(byVariant.Rows, r => r.Key == "A").Appointments);
        Assert.Equal(variants.Count(v => v == "B"), Assert.Single(byVariant.Rows, r => r.Key == "B").Appointments);
        Assert.Equal(8, byVariant.Total.NoShow);
        Assert.Equal(10, Assert.Single(byLanguage.Rows, r => r.Key == "ar").Appointments);
        Assert.Equal(30, Assert.Single(byLanguage.Rows, r => r.Key == "fr").Appointments);
    }
}
