using RappelRdv.Reminders.Replies;

namespace RappelRdv.Reminders.Tests;

public sealed class ReplyParserTests
{
    [Theory]
    // The words of the contract, in any case.
    [InlineData("OUI", ReplyIntent.Confirm)]
    [InlineData("oui", ReplyIntent.Confirm)]
    [InlineData("O", ReplyIntent.Confirm)]
    [InlineData("OK", ReplyIntent.Confirm)]
    [InlineData("1", ReplyIntent.Confirm)]
    [InlineData("CONFIRME", ReplyIntent.Confirm)]
    [InlineData("confirmer", ReplyIntent.Confirm)]
    [InlineData("NON", ReplyIntent.Cancel)]
    [InlineData("n", ReplyIntent.Cancel)]
    [InlineData("2 ", ReplyIntent.Cancel)]
    [InlineData("ANNULER", ReplyIntent.Cancel)]
    [InlineData("Annule", ReplyIntent.Cancel)]
    [InlineData("annulation", ReplyIntent.Cancel)]
    [InlineData("3", ReplyIntent.Reschedule)]
    [InlineData("REPORTER", ReplyIntent.Reschedule)]
    [InlineData("report", ReplyIntent.Reschedule)]
    [InlineData("Décaler", ReplyIntent.Reschedule)]
    [InlineData("changer", ReplyIntent.Reschedule)]
    [InlineData("MODIFIER", ReplyIntent.Reschedule)]
    [InlineData("Stop", ReplyIntent.OptOut)]
    [InlineData("STOP", ReplyIntent.OptOut)]
    [InlineData("arrêt", ReplyIntent.OptOut)]
    [InlineData("ARRETER", ReplyIntent.OptOut)]
    [InlineData("Start", ReplyIntent.OptIn)]
    // Punctuation, spaces, line breaks.
    [InlineData("Oui!", ReplyIntent.Confirm)]
    [InlineData("OUI !", ReplyIntent.Confirm)]
    [InlineData("oui.", ReplyIntent.Confirm)]
    [InlineData("1)", ReplyIntent.Confirm)]
    [InlineData("  \n oui", ReplyIntent.Confirm)]
    [InlineData("\"Oui\"", ReplyIntent.Confirm)]
    [InlineData("Stop.", ReplyIntent.OptOut)]
    [InlineData("non ?", ReplyIntent.Cancel)]
    [InlineData("NON!!!", ReplyIntent.Cancel)]
    [InlineData("1\uFE0F\u20E3", ReplyIntent.Confirm)]            // keycap emoji 1️⃣
    // Emoji.
    [InlineData("👍", ReplyIntent.Confirm)]
    [InlineData("👍🏽", ReplyIntent.Confirm)]
    [InlineData("👍 oui", ReplyIntent.Confirm)]
    [InlineData("Oui 😊", ReplyIntent.Confirm)]
    [InlineData("🙏 ok merci", ReplyIntent.Confirm)]
    [InlineData("😊", ReplyIntent.Other)]
    [InlineData("👎", ReplyIntent.Other)]
    // Extra words after the answer.
    [InlineData("Oui merci", ReplyIntent.Confirm)]
    [InlineData("ok merci beaucoup", ReplyIntent.Confirm)]
    [InlineData("Oui je serai présente", ReplyIntent.Confirm)]
    [InlineData("non je ne pourrai pas venir", ReplyIntent.Cancel)]
    [InlineData("Non merci je viendrai", ReplyIntent.Cancel)]     // the contract: the first word decides
    [InlineData("Reporter svp", ReplyIntent.Reschedule)]
    [InlineData("stop sms", ReplyIntent.OptOut)]
    // Greetings and "je veux" before the answer.
    [InlineData("Je confirme", ReplyIntent.Confirm)]
    [InlineData("je confirme ma présence", ReplyIntent.Confirm)]
    [InlineData("Bonjour, oui je serai là", ReplyIntent.Confirm)]
    [InlineData("Bonsoir madame, je confirme", ReplyIntent.Confirm)]
    [InlineData("je veux annuler", ReplyIntent.Cancel)]
    [InlineData("J'annule", ReplyIntent.Cancel)]
    [InlineData("Bonjour je souhaite annuler mon rdv", ReplyIntent.Cancel)]
    [InlineData("Merci d'annuler mon rendez-vous", ReplyIntent.Cancel)]
    [InlineData("Pouvez-vous annuler svp", ReplyIntent.Cancel)]
    [InlineData("salut je voudrais reporter", ReplyIntent.Reschedule)]
    [InlineData("Bonjour, est-il possible de changer la date", ReplyIntent.Other)]
    [InlineData("je voudrais changer de date", ReplyIntent.Reschedule)]
    [InlineData("je veux déplacer le rdv", ReplyIntent.Reschedule)]
    [InlineData("Merci, oui", ReplyIntent.Confirm)]
    [InlineData("Merci", ReplyIntent.Other)]
    [InlineData("Bonjour", ReplyIntent.Other)]
    // Typos and spellings.
    [InlineData("oiu", ReplyIntent.Confirm)]
    [InlineData("ouii", ReplyIntent.Confirm)]
    [InlineData("Ouiii", ReplyIntent.Confirm)]
    [InlineData("ouioui", ReplyIntent.Confirm)]
    [InlineData("ouais", ReplyIntent.Confirm)]
    [InlineData("okk", ReplyIntent.Confirm)]
    [InlineData("Okay", ReplyIntent.Confirm)]
    [InlineData("O.K.", ReplyIntent.Confirm)]
    [InlineData("confirmé", ReplyIntent.Confirm)]
    [InlineData("Confirmée", ReplyIntent.Confirm)]
    [InlineData("d'accord", ReplyIntent.Confirm)]
    [InlineData("D’accord merci", ReplyIntent.Confirm)]
    [InlineData("daccord", ReplyIntent.Confirm)]
    [InlineData("dacord", ReplyIntent.Confirm)]
    [InlineData("annulé", ReplyIntent.Cancel)]
    [InlineData("annule\u0301", ReplyIntent.Cancel)]            // a decomposed é
    [InlineData("annuller", ReplyIntent.Cancel)]
    [InlineData("anuler", ReplyIntent.Cancel)]
    [InlineData("ANNULEZ", ReplyIntent.Cancel)]
    [InlineData("nonnn", ReplyIntent.Cancel)]
    [InlineData("reporte", ReplyIntent.Reschedule)]
    [InlineData("reporté", ReplyIntent.Reschedule)]
    [InlineData("décalé svp", ReplyIntent.Reschedule)]
    [InlineData("arret", ReplyIntent.OptOut)]
    [InlineData("Arrêtez", ReplyIntent.OptOut)]
    [InlineData("STOPPPP", ReplyIntent.OptOut)]
    // Nothing to act on.
    [InlineData("", ReplyIntent.Other)]
    [InlineData("   ", ReplyIntent.Other)]
    [InlineData("\n\n", ReplyIntent.Other)]
    [InlineData("?", ReplyIntent.Other)]
    [InlineData("pas sûr", ReplyIntent.Other)]
    [InlineData("peut-être", ReplyIntent.Other)]
    [InlineData("je ne sais pas", ReplyIntent.Other)]
    [InlineData("C'est où ?", ReplyIntent.Other)]
    [InlineData("Qui est-ce ?", ReplyIntent.Other)]
    [InlineData("A quelle heure ?", ReplyIntent.Other)]
    [InlineData("11", ReplyIntent.Other)]
    [InlineData("22", ReplyIntent.Other)]
    [InlineData("1er décembre ?", ReplyIntent.Other)]
    [InlineData("10h c'est possible ?", ReplyIntent.Other)]
    [InlineData("nan", ReplyIntent.Other)]
    public void Reads_the_first_word_as_a_citizen_types_it(string body, ReplyIntent expected)
    {
        Assert.Equal(expected, ReplyParser.Parse(body));
    }

    [Fact]
    public void Null_is_other()
    {
        Assert.Equal(ReplyIntent.Other, ReplyParser.Parse(null));
    }

    // Each could be read as a "no", none is plainly one: a wrong cancellation frees a slot
    // the citizen meant to keep, so these get the help text instead.
    [Theory]
    [InlineData("oui non")]
    [InlineData("Oui, non...")]
    [InlineData("non oui")]
    [InlineData("Non, oui je viens")]
    [InlineData("non ok")]
    [InlineData("2 ou 3")]
    [InlineData("2 ou 1 ?")]
    [InlineData("non je préfère reporter")]
    [InlineData("non, on peut changer la date ?")]
    [InlineData("N'annulez pas")]
    [InlineData("n'importe quand")]
    [InlineData("je n'annule pas")]
    [InlineData("je ne veux pas annuler")]
    [InlineData("Ne pas annuler svp")]
    [InlineData("pas annuler")]
    [InlineData("je veux pas annuler")]
    [InlineData("Surtout pas annuler")]
    [InlineData("pourquoi annuler ?")]
    [InlineData("pas sûr")]
    [InlineData("peut-être")]
    [InlineData("je ne sais pas")]
    [InlineData("je sais pas")]
    [InlineData("?")]
    [InlineData("😕")]
    [InlineData("❌")]
    [InlineData("nan")]
    public void Never_reads_an_ambiguous_reply_as_a_cancellation(string body)
    {
        Assert.NotEqual(ReplyIntent.Cancel, ReplyParser.Parse(body));
    }

    [Fact]
    public void Reads_only_the_beginning_of_a_long_message()
    {
        var body = "Oui " + string.Concat(Enumerable.Repeat("je viendrai avec mon fils et ses papiers. ", 40));
        Assert.True(body.Length >= 1600);

        Assert.Equal(ReplyIntent.Confirm, ReplyParser.Parse(body));
    }

    // The parser stops after the first words: an answer buried further in is not looked for,
    // which is also what keeps a 1,600-character SMS as cheap to read as "oui".
    [Fact]
    public void Does_not_look_past_the_first_words()
    {
        var body = new string(' ', 300) + string.Concat(Enumerable.Repeat("bla ", 400)) + "oui";
        Assert.Equal(ReplyIntent.Other, ReplyParser.Parse(body));
    }
}
