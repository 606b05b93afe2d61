using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Tests;

public sealed class Gsm7Tests
{
    [Theory]
    // Letters of the GSM alphabet stay as they are.
    [InlineData("éèùìòà", "éèùìòà")]
    [InlineData("É Ç Ä Ö Ñ Ü ä ö ñ ü ß Æ æ Ø ø Å å", "É Ç Ä Ö Ñ Ü ä ö ñ ü ß Æ æ Ø ø Å å")]
    [InlineData("Rendez-vous à 9h30 : 12€ [A] {b} ~|^\\", "Rendez-vous à 9h30 : 12€ [A] {b} ~|^\\")]
    // Other accented letters lose their accent.
    [InlineData("â ê î ô û ë ï ÿ ç", "a e i o u e i y c")]
    [InlineData("À Â È Ê Ë Î Ï Ô Û Ù Ÿ", "A A E E E I I O U U Y")]
    [InlineData("Œuvre, cœur, sœur", "OEuvre, coeur, soeur")]
    [InlineData("Forêt, hôpital, août, garçon", "Foret, hopital, aout, garcon")]
    [InlineData("Mâcon, Besançon, L'Haÿ-les-Roses", "Macon, Besancon, L'Hay-les-Roses")]
    // Typography becomes its ASCII look-alike.
    [InlineData("l’enfance ‘x’ ‛y", "l'enfance 'x' 'y")]
    [InlineData("«\u00A0Cœur de Var\u00A0»", "\"Coeur de Var\"")]
    [InlineData("Immeuble « Les Œillets », 3 rue", "Immeuble \"Les OEillets\", 3 rue")]
    [InlineData("«Aide»", "\"Aide\"")]
    [InlineData("“Aide”", "\"Aide\"")]
    [InlineData("Attendez…", "Attendez...")]
    [InlineData("RSA – accompagnement — suivi", "RSA - accompagnement - suivi")]
    [InlineData("n° 12", "no 12")]
    [InlineData("usager·ère·s", "usager.ère.s")]
    // Spaces: non-breaking and narrow ones become plain spaces, runs collapse, ends are trimmed.
    [InlineData("9\u202Fh\u00A030", "9 h 30")]
    [InlineData("  a   b\t\tc  ", "a b c")]
    [InlineData("a\u200Bb\uFEFFc\u00ADd", "abcd")]
    // Line breaks are kept as LF.
    [InlineData("ligne 1\r\nligne 2\rligne 3\nligne 4", "ligne 1\nligne 2\nligne 3\nligne 4")]
    [InlineData("a\u2028b", "a\nb")]
    // What has no GSM spelling is dropped.
    [InlineData("Merci 👍", "Merci")]
    [InlineData("👍 Oui 🙏🏽 merci 😊", "Oui merci")]
    [InlineData("Salut 你好 Привет", "Salut")]
    [InlineData("", "")]
    public void Transliterates_to_the_GSM_alphabet(string input, string expected)
    {
        var result = Gsm7.Transliterate(input);

        Assert.Equal(expected, result);
        Assert.True(Gsm7.IsGsm7(result));
    }

    [Theory]
    [InlineData("Répondez OUI pour confirmer.", true)]
    [InlineData("Toulon, 12€, [bat. A] {é}", true)]
    [InlineData("", true)]
    [InlineData("ç", false)]
    [InlineData("Forêt", false)]
    [InlineData("l’enfance", false)]
    [InlineData("«", false)]
    [InlineData("👍", false)]
    [InlineData("a\tb", false)]
    public void Knows_what_is_GSM_7(string text, bool expected)
    {
        Assert.Equal(expected, Gsm7.IsGsm7(text));
    }

    public static TheoryData<string> FrenchStrings() =>
    [
        "Maison départementale des solidarités de Fort-de-France",
        "Centre médico-social Saint-Étienne-du-Rouvray",
        "Espace départemental des solidarités – Cœur de Var",
        "Résidence « Les Œillets », bâtiment Ç, 3 rue de l’Église, 97200 Fort-de-France",
        "Aide sociale à l’enfance — Pôle Île-de-France, n° 4",
        "Hôtel de ville, place du Général-de-Gaulle, 95600 Eaubonne",
        "Ça dépend… peut-être “demain” ?",
        "Noël à L'Haÿ-les-Roses, août 2026 ✨🎄",
        "ÂÊÎÔÛ âêîôû ÀÈÙ àèù ËÏÜŸ ëïüÿ Çç Œœ Ææ",
        "Plaît-il ? Où ça ? Là-bas, près du kiosque.",
        "Tél.\u00A0: 04\u202F94\u202F00\u202F00\u202F00\t(accueil)\r\n",
        "Mayotte : Mamoudzou, Kawéni — 97600",
    ];

    [Theory]
    [MemberData(nameof(FrenchStrings))]
    public void Transliteration_of_French_text_is_always_GSM_7(string text)
    {
        Assert.True(Gsm7.IsGsm7(Gsm7.Transliterate(text)), text);
    }

    [Fact]
    public void Transliteration_of_random_French_text_is_always_GSM_7()
    {
        // French letters, typography, emoji (as surrogate pairs) and stray controls, mixed at random.
        const string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.;:!?'\"-()" +
            "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ’‘«»“”…–—\u00A0\u202F\t\r\n°€[]{}";
        string[] emoji = ["👍", "😊", "🙏🏽", "✨", "❤️"];
        var random = new Random(20261203);
        for (var i = 0; i < 500; i++)
        {
            var text = new System.Text.StringBuilder();
            var length = random.Next(0, 200);
            for (var j = 0; j < length; j++)
            {
                text.Append(random.Next(20) == 0 ? emoji[random.Next(emoji.Length)] : alphabet[random.Next(alphabet.Length)].ToString());
            }

            var result = Gsm7.Transliterate(text.ToString());
            Assert.True(Gsm7.IsGsm7(result), text.ToString());
            Assert.DoesNotContain("  ", result, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(160, 1)]
    [InlineData(161, 2)]
    [InlineData(306, 2)]
    [InlineData(307, 3)]
    [InlineData(459, 3)]
    [InlineData(460, 4)]
    public void Counts_GSM_segments_at_the_boundaries(int length, int segments)
    {
        Assert.Equal(segments, Gsm7.Segments(new string('a', length)));
    }

    [Theory]
    [InlineData(80, 1)]     // 160 septets
    [InlineData(81, 2)]     // 162 septets
    [InlineData(153, 2)]    // 306 septets
    [InlineData(154, 3)]    // 308 septets
    public void Counts_extension_characters_as_two_septets(int euros, int segments)
    {
        Assert.Equal(segments, Gsm7.Segments(new string('€', euros)));
    }

    [Theory]
    [InlineData("^{}\\[~]|€", 18)]
    [InlineData("é à ù", 5)]
    [InlineData("a€", 3)]
    public void Counts_septets(string text, int septets)
    {
        Assert.Equal(septets, Gsm7.Septets(text));
    }

    [Fact]
    public void One_extension_character_tips_a_full_segment_over()
    {
        Assert.Equal(1, Gsm7.Segments(new string('a', 159) + "é"));
        Assert.Equal(2, Gsm7.Segments(new string('a', 159) + "€"));
        Assert.Equal(2, Gsm7.Segments(new string('a', 305) + "é"));
        Assert.Equal(3, Gsm7.Segments(new string('a', 305) + "€"));
    }

    [Theory]
    [InlineData(70, 1)]
    [InlineData(71, 2)]
    [InlineData(134, 2)]
    [InlineData(135, 3)]
    public void Counts_UCS_2_segments_for_what_is_not_GSM_7(int length, int segments)
    {
        // One "ç" makes the whole SMS UCS-2: 70 characters, then 67 per segment.
        Assert.Equal(segments, Gsm7.Segments("ç" + new string('a', length - 1)));
    }
}
