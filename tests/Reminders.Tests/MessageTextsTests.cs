using System.Globalization;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Tests;

public sealed class MessageTextsTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private static readonly TimeZoneInfo Martinique = TimeZoneInfo.FindSystemTimeZoneById("America/Martinique");
    private static readonly TimeZoneInfo Reunion = TimeZoneInfo.FindSystemTimeZoneById("Indian/Reunion");

    private static readonly string?[] Services =
    [
        null,
        "RSA",
        "Protection maternelle et infantile (PMI)",
        "Revenu de solidarité active – accompagnement",
        "Aide sociale à l’enfance",
        "Allocation personnalisée d’autonomie (APA) – évaluation à domicile",
        "Entretien d’orientation des bénéficiaires du RSA — premier accueil collectif « Parcours emploi » à l’Espace insertion",
        // An agenda that put a paragraph in the motif's name: only its first words can stay.
        string.Join(' ', Enumerable.Repeat("Accompagnement social global « Œ » – suivi renforcé", 6)),
    ];

    // Kept: what of the place must survive any shortening, when the service is a real one.
    private static readonly (string? Name, string? Address, string? Phone, string? Kept)[] Places =
    [
        ("UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "04 94 00 00 00", "UTS Toulon Ouest"),
        ("Maison départementale des solidarités de Fort-de-France", "Immeuble « Les Œillets », 3 rue de l’Église, 97200 Fort-de-France",
            "+596 596 12 34 56", "Fort-de-France"),
        ("Centre médico-social Saint-Étienne-du-Rouvray",
            "Résidence Les Cèdres, bâtiment C, 2e étage, 17 avenue du Maréchal de Lattre de Tassigny, 76800 Saint-Étienne-du-Rouvray",
            null, "Étienne-du-Rouvray"),
        ("Espace départemental des solidarités – Cœur de Var",
            "Quartier de la Gare, 45 boulevard du Général Leclerc, BP 123, 83340 Le Luc CEDEX", "04 83 95 00 00", "Coeur de Var"),
        ("Centre communal d’action sociale de L’Haÿ-les-Roses", "Hôtel de ville, 41 rue Jean Jaurès\n94240 L’Haÿ-les-Roses",
            "01 46 15 33 33", "L'Hay-les-Roses"),
        ("Maison France services 👍 (guichet n° 3)", "Place de l’Église, 97400 Saint-Denis", "0262 90 00 00", "guichet no 3"),
        (null, null, null, null),
        (null, "8 rue des Écoles, 83000 Toulon", null, "Toulon"),
        (new string('x', 40) + " " + string.Join(' ', Enumerable.Repeat("Pôle social départemental", 8)),
            string.Join(", ", Enumerable.Repeat("Bâtiment « Œ », escalier C, porte 4", 6)) + ", 83000 Toulon",
            "04 94 00 00 00 poste 1234 du lundi au vendredi", null),
    ];

    private static readonly (DateTimeOffset StartsAt, TimeZoneInfo Zone)[] Times =
    [
        (At("2026-12-03T08:30:00Z"), Paris),        // jeudi 3 décembre à 9h30
        (At("2026-09-30T12:30:00Z"), Paris),        // mercredi 30 septembre à 14h30: the longest spelling
        (At("2026-08-01T06:00:00Z"), Paris),        // samedi 1er août à 8h
        (At("2026-03-02T13:15:00Z"), Martinique),
        (At("2026-11-30T22:00:00Z"), Reunion),      // mardi 1er décembre à 2h
    ];

    private static readonly string[] SmsKinds =
        [MessageKinds.Reminder, MessageKinds.Confirmation, MessageKinds.Change, MessageKinds.Cancellation];

    // Theories take an index into this list: xunit shows each case, and a failure names it.
    private static readonly (MessageContext Context, string? Kept)[] Cases = [.. AllCases()];

    public static TheoryData<string, int> EveryKindAndContext()
    {
        var data = new TheoryData<string, int>();
        for (var i = 0; i < Cases.Length; i++)
        {
            foreach (var kind in SmsKinds)
            {
                data.Add(kind, i);
            }
        }

        return data;
    }

    public static TheoryData<int> EveryContext() => [.. Enumerable.Range(0, Cases.Length)];

    private static IEnumerable<(MessageContext, string?)> AllCases()
    {
        var i = 0;
        foreach (var service in Services)
        {
            foreach (var (name, address, phone, kept) in Places)
            {
                foreach (var mode in Modes.All)
                {
                    // Every service meets every place and mode; the times rotate, to keep the table small.
                    var (startsAt, zone) = Times[i++ % Times.Length];
                    var realService = service is null || service.Length < 200;
                    yield return (new MessageContext(service, startsAt, zone, mode, name, address, phone), realService ? kept : null);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(EveryKindAndContext))]
    public void Sms_is_GSM_7_in_two_segments_with_the_date_the_place_and_how_to_answer(string kind, int context)
    {
        var ctx = Cases[context].Context;
        var text = SmsTexts.For(kind, ctx);

        Assert.True(Gsm7.IsGsm7(text), text);
        Assert.InRange(Gsm7.Segments(text), 1, 2);
        Assert.Contains(Gsm7.Transliterate(FrenchDates.DayAndTime(ctx.StartsAt, ctx.Zone)), text, StringComparison.Ordinal);
        Assert.DoesNotContain("  ", text, StringComparison.Ordinal);

        if (kind == MessageKinds.Cancellation)
        {
            Assert.DoesNotContain("OUI", text, StringComparison.Ordinal);
            Assert.Contains("annulé", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.True(
                text.EndsWith(". Répondez OUI (1) pour confirmer, NON (2) pour annuler, 3 pour reporter.", StringComparison.Ordinal)
                || text.EndsWith(". OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.", StringComparison.Ordinal),
                text);
        }

        switch (ctx.Mode)
        {
            case Modes.Phone:
                Assert.Contains("rendez-vous téléphonique", text, StringComparison.Ordinal);
                break;
            case Modes.Home:
                Assert.Contains("à votre domicile", text, StringComparison.Ordinal);
                break;
            default:
                if (Cases[context].Kept is { } kept)
                {
                    Assert.Contains(kept, text, StringComparison.Ordinal);
                }

                break;
        }
    }

    [Fact]
    public void Reminder_reads_as_the_contract_example()
    {
        var ctx = new MessageContext(
            "RSA", At("2026-12-03T09:30:00+01:00"), Paris, Modes.InPerson, "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "04 94 00 00 00");

        Assert.Equal(
            "Rappel RDV RSA : jeudi 3 décembre à 9h30, UTS Toulon Ouest, 12 rue Picot, 83000 Toulon. "
            + "Répondez OUI (1) pour confirmer, NON (2) pour annuler, 3 pour reporter.",
            SmsTexts.For(MessageKinds.Reminder, ctx));
        Assert.Equal(1, Gsm7.Segments(SmsTexts.For(MessageKinds.Reminder, ctx)));
    }

    [Fact]
    public void The_issue_s_two_segment_reminder_now_fits_one()
    {
        // 166 septets before: "Rappel : rendez-vous RSA le mardi 1er décembre à 9h30, UTS Toulon, 12 rue Picot, Toulon. Répondez OUI…"
        var ctx = new MessageContext(
            "RSA", At("2026-12-01T09:30:00+01:00"), Paris, Modes.InPerson, "UTS Toulon", "12 rue Picot, Toulon", null);

        var text = SmsTexts.For(MessageKinds.Reminder, ctx);

        Assert.Equal(
            "Rappel RDV RSA : mardi 1er décembre à 9h30, UTS Toulon, 12 rue Picot, Toulon. Répondez OUI (1) pour confirmer, NON (2) pour annuler, 3 pour reporter.",
            text);
        Assert.Equal(1, Gsm7.Segments(text));
    }

    [Fact]
    public void Each_kind_says_what_happened()
    {
        var ctx = new MessageContext(
            "Aide sociale à l’enfance", At("2026-12-03T08:30:00Z"), Paris, Modes.InPerson,
            "Espace départemental des solidarités – Cœur de Var", "12 rue Picot, 83000 Toulon", "04 94 00 00 00");

        // One segment each: the shorter wording and the door's acronym make room for the place.
        Assert.Equal(
            "RDV Aide sociale à l'enfance jeudi 3 décembre à 9h30, EDS - Coeur de Var, 12 rue Picot, 83000 Toulon. "
            + "OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.",
            SmsTexts.For(MessageKinds.Reminder, ctx));
        Assert.StartsWith("Nouveau RDV Aide sociale à l'enfance jeudi 3 décembre à 9h30, EDS - Coeur de Var, Toulon.",
            SmsTexts.For(MessageKinds.Confirmation, ctx), StringComparison.Ordinal);
        Assert.StartsWith("RDV Aide sociale à l'enfance déplacé au jeudi 3 décembre à 9h30",
            SmsTexts.For(MessageKinds.Change, ctx), StringComparison.Ordinal);
        Assert.Equal(
            "RDV Aide sociale à l'enfance du jeudi 3 décembre à 9h30, EDS - Coeur de Var, 12 rue Picot, Toulon, annulé. "
            + "Pour un autre rendez-vous, appelez le 04 94 00 00 00.",
            SmsTexts.For(MessageKinds.Cancellation, ctx));
        foreach (var kind in SmsKinds)
        {
            Assert.Equal(1, Gsm7.Segments(SmsTexts.For(kind, ctx)));
        }
    }

    [Fact]
    public void A_long_place_is_first_abbreviated_the_way_envelopes_are()
    {
        var ctx = new MessageContext(
            "Revenu de solidarité active – accompagnement renforcé vers l’emploi", At("2026-09-30T12:30:00Z"), Paris, Modes.InPerson,
            "Centre médico-social Saint-Étienne-du-Rouvray",
            "Résidence Les Cèdres, bâtiment C, 2e étage, 17 avenue du Maréchal de Lattre de Tassigny, 76800 Saint-Étienne-du-Rouvray",
            null);

        Assert.Equal(
            "RDV Revenu de solidarité active - accompagnement renforcé vers l'emploi mercredi 30 septembre à 14h30, "
            + "CMS St-Étienne-du-Rouvray, Rés. Les Cèdres, bat. C, 2e étage, 17 av. du Mal de Lattre de Tassigny, 76800 St-Étienne-du-Rouvray. "
            + "OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.",
            SmsTexts.For(MessageKinds.Reminder, ctx));
    }

    [Fact]
    public void Then_the_address_loses_its_complements_and_mail_routing()
    {
        var ctx = new MessageContext(
            "Entretien d’orientation des bénéficiaires du RSA — premier accueil collectif « Parcours emploi » à l’Espace insertion de la Maison départementale du Luc",
            At("2026-09-30T12:30:00Z"), Paris, Modes.InPerson,
            "Espace départemental des solidarités – Cœur de Var",
            "Quartier de la Gare, 45 boulevard du Général Leclerc, BP 123, 83340 Le Luc CEDEX",
            "04 83 95 00 00");

        Assert.Equal(
            "RDV Entretien d'orientation des bénéficiaires du RSA - premier accueil collectif \"Parcours emploi\" "
            + "à l'Espace insertion de la Maison départementale du Luc mercredi 30 septembre à 14h30, EDS - Coeur de Var, 45 bd du Gal Leclerc, 83340 Le Luc. "
            + "OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.",
            SmsTexts.For(MessageKinds.Reminder, ctx));
    }

    [Fact]
    public void A_service_as_long_as_a_paragraph_is_cut_but_the_date_and_answers_stay()
    {
        var service = string.Join(' ', Enumerable.Repeat("Accompagnement social global – suivi renforcé", 8));
        var ctx = new MessageContext(service, At("2026-12-03T08:30:00Z"), Paris, Modes.InPerson, "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", null);

        var text = SmsTexts.For(MessageKinds.Reminder, ctx);

        Assert.StartsWith("RDV Accompagnement social global - suivi renforcé Accompagnement", text, StringComparison.Ordinal);
        Assert.EndsWith("... jeudi 3 décembre à 9h30. OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.", text, StringComparison.Ordinal);
        Assert.Equal(2, Gsm7.Segments(text));
    }

    [Fact]
    public void Phone_and_home_appointments_say_so_instead_of_a_place()
    {
        var phone = new MessageContext("RSA", At("2026-12-03T08:30:00Z"), Paris, Modes.Phone, "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", null);
        var home = phone with { Mode = Modes.Home };

        Assert.StartsWith("Rappel RDV RSA : jeudi 3 décembre à 9h30, rendez-vous téléphonique. Répondez OUI",
            SmsTexts.For(MessageKinds.Reminder, phone), StringComparison.Ordinal);
        Assert.StartsWith("Rappel RDV RSA : jeudi 3 décembre à 9h30, à votre domicile. Répondez OUI",
            SmsTexts.For(MessageKinds.Reminder, home), StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_kind_that_has_no_text()
    {
        var ctx = new MessageContext(null, At("2026-12-03T08:30:00Z"), Paris, Modes.InPerson, null, null, null);
        Assert.Throws<ArgumentOutOfRangeException>(() => SmsTexts.For(MessageKinds.Reply, ctx));
    }

    [Theory]
    [MemberData(nameof(EveryContext))]
    public void Acknowledgments_are_one_GSM_7_segment_naming_the_date_and_time(int context)
    {
        var ctx = Cases[context].Context;
        var when = Gsm7.Transliterate(FrenchDates.DayAndTime(ctx.StartsAt, ctx.Zone));
        foreach (var text in new[] { SmsTexts.Confirmed(ctx), SmsTexts.Cancelled(ctx), SmsTexts.RescheduleRequested(ctx), SmsTexts.TooLate(ctx) })
        {
            Assert.True(Gsm7.IsGsm7(text), text);
            Assert.Equal(1, Gsm7.Segments(text));
            Assert.Contains(when, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Acknowledgments_read_well()
    {
        var ctx = new MessageContext("RSA", At("2026-12-03T08:30:00Z"), Paris, Modes.InPerson, "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "04 94 00 00 00");

        Assert.Equal("Merci, votre rendez-vous RSA du jeudi 3 décembre à 9h30 est confirmé.", SmsTexts.Confirmed(ctx));
        Assert.Equal("Votre rendez-vous RSA du jeudi 3 décembre à 9h30 est annulé. Merci de nous avoir prévenus.", SmsTexts.Cancelled(ctx));
        Assert.Equal(
            "C'est noté pour votre rendez-vous RSA du jeudi 3 décembre à 9h30 : le service va vous recontacter pour une nouvelle date.",
            SmsTexts.RescheduleRequested(ctx));
        Assert.Equal(
            "Il est trop tard pour modifier par SMS votre rendez-vous du jeudi 3 décembre à 9h30. Merci d'appeler le service au 04 94 00 00 00.",
            SmsTexts.TooLate(ctx));
    }

    [Fact]
    public void Help_and_opt_out_answers_are_one_GSM_7_segment()
    {
        Assert.Equal(
            "Répondez OUI ou 1 pour confirmer votre rendez-vous, NON ou 2 pour l'annuler, 3 pour changer de date, STOP pour ne plus recevoir de SMS.",
            SmsTexts.Help());
        Assert.Contains("Envoyez START pour les recevoir à nouveau.", SmsTexts.OptedOut(), StringComparison.Ordinal);
        Assert.Contains("STOP", SmsTexts.OptedIn(), StringComparison.Ordinal);

        foreach (var text in new[] { SmsTexts.Help(), SmsTexts.OptedOut(), SmsTexts.OptedIn() })
        {
            Assert.True(Gsm7.IsGsm7(text), text);
            Assert.Equal(1, Gsm7.Segments(text));
        }
    }

    [Theory]
    [MemberData(nameof(EveryContext))]
    public void Voice_texts_speak_the_time_and_never_fail(int context)
    {
        var ctx = Cases[context].Context;
        var spoken = $"{FrenchDates.Day(ctx.StartsAt, ctx.Zone)} à {FrenchDates.SpokenTime(ctx.StartsAt, ctx.Zone)}";
        foreach (var kind in SmsKinds)
        {
            var text = VoiceTexts.Announcement(kind, ctx);
            Assert.Contains(spoken, text, StringComparison.Ordinal);
            Assert.DoesNotContain("\n", text, StringComparison.Ordinal);
        }

        var message = VoiceTexts.AnsweringMachine(ctx);
        Assert.Contains(spoken, message, StringComparison.Ordinal);
        if (ctx.Service is { } service)
        {
            Assert.DoesNotContain(service, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Voice_announcement_reads_as_a_sentence()
    {
        var ctx = new MessageContext("RSA", At("2026-12-03T08:30:00Z"), Paris, Modes.InPerson, "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", "04 94 00 00 00");

        Assert.Equal(
            "Nous vous rappelons votre rendez-vous RSA, le jeudi 3 décembre à 9 heures 30, à l'adresse suivante : UTS Toulon Ouest, 12 rue Picot, 83000 Toulon.",
            VoiceTexts.Announcement(MessageKinds.Reminder, ctx));
        Assert.Equal(
            "Votre rendez-vous RSA du jeudi 3 décembre à 9 heures 30 a été annulé par le service. "
            + "Pour un autre rendez-vous, appelez le zéro 4, 94, zéro zéro, zéro zéro, zéro zéro.",
            VoiceTexts.Announcement(MessageKinds.Cancellation, ctx));
        Assert.Equal(
            "Pour confirmer, tapez 1. Pour annuler, tapez 2. Pour demander une autre date, tapez 3. Pour réécouter, tapez 9.",
            VoiceTexts.Menu());
    }

    [Theory]
    [InlineData("04 94 00 00 00", "zéro 4, 94, zéro zéro, zéro zéro, zéro zéro")]
    [InlineData("+33 4 94 12 34 56", "zéro 4, 94, 12, 34, 56")]
    [InlineData("+596 596 12 34 56", "zéro 5, 96, 12, 34, 56")]
    [InlineData("0262 90 00 00", "zéro 2, 62, 90, zéro zéro, zéro zéro")]
    [InlineData("3949", "39, 49")]
    public void Answering_machine_gives_the_place_number_in_pairs_without_the_service(string phone, string spoken)
    {
        var ctx = new MessageContext(
            "Aide sociale à l’enfance", At("2026-12-03T08:30:00Z"), Paris, Modes.InPerson, "UTS Toulon Ouest", "12 rue Picot, 83000 Toulon", phone);

        var message = VoiceTexts.AnsweringMachine(ctx);

        Assert.Contains($"appeler le {spoken}.", message, StringComparison.Ordinal);
        Assert.Contains("jeudi 3 décembre à 9 heures 30", message, StringComparison.Ordinal);
        Assert.DoesNotContain("enfance", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Answering_machine_without_a_number_asks_to_call_the_service()
    {
        var ctx = new MessageContext("RSA", At("2026-12-03T08:30:00Z"), Paris, Modes.Phone, null, null, "voir site");
        Assert.Contains("merci d'appeler le service", VoiceTexts.AnsweringMachine(ctx), StringComparison.Ordinal);
    }

    [Fact]
    public void Voice_acknowledges_the_three_keys_only()
    {
        Assert.Equal("Merci, votre rendez-vous est confirmé.", VoiceTexts.Acknowledgment(ReplyIntent.Confirm));
        Assert.Contains("annulé", VoiceTexts.Acknowledgment(ReplyIntent.Cancel), StringComparison.Ordinal);
        Assert.Contains("nouvelle date", VoiceTexts.Acknowledgment(ReplyIntent.Reschedule), StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => VoiceTexts.Acknowledgment(ReplyIntent.OptOut));
    }

    private static DateTimeOffset At(string instant) =>
        DateTimeOffset.Parse(instant, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
