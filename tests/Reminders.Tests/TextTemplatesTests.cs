using System.Globalization;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Tests;

/// <summary>A département's own templates, its wording trials and the six languages' reply words.</summary>
public sealed class TextTemplatesTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    private const string ContractExample =
        "{service} le {day} à {time}, {place}. Une absence non prévenue retarde votre dossier. OUI pour confirmer, NON pour annuler, 3 pour reporter.";

    // (language, template, the start of the problem, or null when the template is accepted)
    public static TheoryData<string, string, string?> Table => new()
    {
        { "fr", ContractExample, null },
        { "fr", "Rappel : RDV le {day} à {time}. OUI/1, NON/2, 3 pour reporter.", null },
        { "fr", "Rendez-vous {service} le {jour} à {heure}", "Unknown placeholder {jour}, {heure}" },
        { "fr", "RDV {Service} {day}", "Unknown placeholder {Service}" },
        { "fr", "RDV {service} {day} à {time}, {place} 🙂 Répondez OUI", "'🙂' (U+1F642) has no GSM-7 spelling" },
        { "fr", "موعد {day}", "'م' (U+0645) has no GSM-7 spelling" },
        { "en", "Appointment {day} at {time} ✔", "'✔' (U+2714) has no GSM-7 spelling" },
        // Accents outside GSM-7 lose their accent, typographic quotes straighten: no UCS-2.
        { "pt", "Atendimento {service}: {day} às {time}, {place}. Responda SIM ou NÃO — “obrigado”.", null },
        { "tr", "{service} randevunuz {day} saat {time}, {place}. Onay için EVET, iptal için HAYIR yazın.", null },
        { "ar", "موعد {service} يوم {day} الساعة {time}. أرسلوا نعم أو لا.", null },
        { "fr", ContractExample + " " + new string('x', 80), "Too long: with a 30-character service and a 60-character place it takes 3 segments" },
        { "ar", "تذكير: موعد {service} يوم {day} الساعة {time}، {place}. للتأكيد أرسلوا نعم أو 1، للإلغاء لا أو 2، لتغيير الموعد 3.", "Too long" },
        { "fr", "   ", "Must be a non-empty text." },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void A_template_is_checked_when_the_tenant_is_written(string language, string template, string? problem)
    {
        var problems = TextTemplates.Check("texts.templates.fr.reminder", language, template).ToList();

        if (problem is null)
        {
            Assert.Empty(problems);
        }
        else
        {
            var found = Assert.Single(problems);
            Assert.Equal("texts.templates.fr.reminder", found.Field);
            Assert.StartsWith(problem, found.Problem, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_worst_case_is_computed_not_guessed()
    {
        // 306 septets are two segments: a template that is exactly at the limit in the worst case passes, one more fails.
        var fixedPart = "{service}{day}{time}{place}";
        // The longest French day is "mercredi 1er septembre" (22 characters), the longest time five ("12h30").
        var worst = 30 + "mercredi 1er septembre".Length + "12h30".Length + 60;
        var fits = fixedPart + new string('a', 306 - worst);

        Assert.Empty(TextTemplates.Check("f", "fr", fits));
        Assert.Single(TextTemplates.Check("f", "fr", fits + "a"));
    }

    [Fact]
    public void A_tenant_template_is_filled_shortened_like_the_built_in_ones_and_one_missing_falls_back()
    {
        var templates = new Dictionary<string, string> { ["reminder"] = ContractExample };
        var ctx = new MessageContext("RSA", new DateTimeOffset(2026, 12, 3, 9, 30, 0, TimeSpan.FromHours(1)), Paris, Modes.InPerson,
            "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", null, "fr", templates);

        Assert.Equal(
            "RSA le jeudi 3 décembre à 9h30, UTS Toulon Ouest. Une absence non prévenue retarde votre dossier. "
            + "OUI pour confirmer, NON pour annuler, 3 pour reporter.",
            SmsTexts.For(MessageKinds.Reminder, ctx));
        Assert.Equal(1, Gsm7.Segments(SmsTexts.For(MessageKinds.Reminder, ctx)));
        Assert.StartsWith("Nouveau RDV RSA jeudi 3 décembre à 9h30, UTS Toulon Ouest", SmsTexts.For(MessageKinds.Confirmation, ctx), StringComparison.Ordinal);
        var phone = SmsTexts.For(MessageKinds.Reminder, ctx with { Mode = Modes.Phone, Service = null });
        Assert.Equal("le jeudi 3 décembre à 9h30, rendez-vous téléphonique. Une absence non prévenue retarde votre dossier. "
            + "OUI pour confirmer, NON pour annuler, 3 pour reporter.", phone);
    }

    [Fact]
    public void The_preview_fills_a_template_with_a_long_example_and_counts_its_segments()
    {
        var preview = TextTemplates.Preview("fr", MessageKinds.Reminder, ContractExample);

        Assert.Contains("Accompagnement RSA - orientation", preview.Text, StringComparison.Ordinal);
        Assert.Contains("mercredi 30 septembre à 14h30", preview.Text, StringComparison.Ordinal);
        Assert.Equal(Gsm7.Segments(preview.Text), preview.Segments);
        Assert.Equal("GSM-7", preview.Encoding);
        Assert.Equal("UCS-2", TextTemplates.Preview("ar", MessageKinds.Reminder, null).Encoding);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Variants_are_drawn_equally_over_ten_thousand_draws(int count)
    {
        var names = Enumerable.Range(0, count).Select(i => ((char)('A' + i)).ToString()).ToList();
        var experiment = new TextExperiment("cout-absence",
            names.ToDictionary(n => n, _ => (IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>)new Dictionary<string, IReadOnlyDictionary<string, string>>()));
        var random = new Random(20261201);

        var drawn = Enumerable.Range(0, 10_000).Select(_ => experiment.Draw(random)).GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());

        // Each count is binomial(10,000, 1/k): within 4 standard deviations of its mean.
        var p = 1.0 / count;
        var tolerance = 4 * Math.Sqrt(10_000 * p * (1 - p));
        Assert.Equal(names, drawn.Keys.Order());
        Assert.All(drawn.Values, n => Assert.InRange(n, 10_000 * p - tolerance, 10_000 * p + tolerance));
    }

    [Fact]
    public void A_variant_s_templates_override_the_tenant_s_and_an_empty_variant_is_the_tenant_s()
    {
        var tenant = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["fr"] = new Dictionary<string, string> { ["reminder"] = "T {day}", ["change"] = "C {day}" } };
        var texts = new TenantTexts("fr", tenant, new TextExperiment("x", new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>
        {
            ["A"] = new Dictionary<string, IReadOnlyDictionary<string, string>>(),
            ["B"] = new Dictionary<string, IReadOnlyDictionary<string, string>> { ["fr"] = new Dictionary<string, string> { ["reminder"] = "B {day}" } },
        }));

        Assert.Equal("T {day}", texts.TemplatesFor("fr", "A")!["reminder"]);
        Assert.Equal("B {day}", texts.TemplatesFor("fr", "B")!["reminder"]);
        Assert.Equal("C {day}", texts.TemplatesFor("fr", "B")!["change"]);
        Assert.Null(texts.TemplatesFor("en", "A"));
    }

    [Theory]
    [InlineData("en", "Yes", ReplyIntent.Confirm)]
    [InlineData("en", "no thanks", ReplyIntent.Cancel)]
    [InlineData("en", "CHANGE please", ReplyIntent.Reschedule)]
    [InlineData("es", "Sí, gracias", ReplyIntent.Confirm)]
    [InlineData("es", "no", ReplyIntent.Cancel)]
    [InlineData("es", "cambiar", ReplyIntent.Reschedule)]
    [InlineData("pt", "SIM!", ReplyIntent.Confirm)]
    [InlineData("pt", "Não", ReplyIntent.Cancel)]
    [InlineData("pt", "mudar", ReplyIntent.Reschedule)]
    [InlineData("tr", "Evet", ReplyIntent.Confirm)]
    [InlineData("tr", "HAYIR", ReplyIntent.Cancel)]
    [InlineData("tr", "Hayır", ReplyIntent.Cancel)]
    [InlineData("tr", "değiştir", ReplyIntent.Reschedule)]
    [InlineData("ar", "نعم", ReplyIntent.Confirm)]
    [InlineData("ar", "لا", ReplyIntent.Cancel)]
    [InlineData("ar", "نَعَم شكرا", ReplyIntent.Confirm)]
    [InlineData("tr", "oui", ReplyIntent.Confirm)]
    [InlineData("ar", "ANNULER", ReplyIntent.Cancel)]
    [InlineData("en", "1", ReplyIntent.Confirm)]
    [InlineData("ar", "2", ReplyIntent.Cancel)]
    [InlineData("pt", "3", ReplyIntent.Reschedule)]
    [InlineData("es", "STOP", ReplyIntent.OptOut)]
    public void Replies_are_read_in_the_citizen_s_language_and_in_French(string language, string body, ReplyIntent expected) =>
        Assert.Equal(expected, ReplyParser.Parse(body, language));

    [Theory]
    [InlineData("si je peux venir")]
    [InlineData("yes")]
    [InlineData("evet")]
    public void Another_language_s_words_are_not_read_for_a_French_citizen(string body)
    {
        // "si" is "if" in French; "yes" was already understood in French.
        var intent = ReplyParser.Parse(body, "fr");
        Assert.Equal(body == "yes" ? ReplyIntent.Confirm : ReplyIntent.Other, intent);
    }

    [Theory]
    [InlineData("fr", "fr")]
    [InlineData("pt-BR", "pt")]
    [InlineData("AR", "ar")]
    [InlineData("tr-TR", "tr")]
    [InlineData("de", null)]
    [InlineData("français", null)]
    [InlineData("", null)]
    public void A_language_is_a_BCP_47_tag_of_a_supported_language(string tag, string? expected) =>
        Assert.Equal(expected, Languages.Supported(tag));

    [Fact]
    public void Every_language_has_its_own_day_names_and_every_built_in_text()
    {
        var thursday = new DateTimeOffset(2026, 12, 3, 8, 30, 0, TimeSpan.Zero);
        Assert.Equal("jeudi 3 décembre", LocalDates.Day("fr", thursday, Paris));
        Assert.Equal("Thursday 3 December", LocalDates.Day("en", thursday, Paris));
        Assert.Equal("jueves 3 de diciembre", LocalDates.Day("es", thursday, Paris));
        Assert.Equal("quinta-feira 3 de dezembro", LocalDates.Day("pt", thursday, Paris));
        Assert.Equal("3 Aralık Perşembe", LocalDates.Day("tr", thursday, Paris));
        Assert.Equal("الخميس 3 ديسمبر", LocalDates.Day("ar", thursday, Paris));
        Assert.Equal("9:30", LocalDates.Time("en", thursday, Paris));
        Assert.Equal(string.Create(CultureInfo.InvariantCulture, $"9h30"), LocalDates.Time("pt", thursday, Paris));
        Assert.Equal(Languages.Codes, BuiltInTexts.All.Select(t => t.Language.Code));
        Assert.All(BuiltInTexts.All, t => Assert.Equal(SmsTexts.Kinds.Order(), t.Sms.Keys.Order()));
    }
}
