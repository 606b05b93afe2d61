using System.Text;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Reminders.Replies;

public enum ReplyIntent
{
    Confirm,
    Cancel,
    Reschedule,
    OptOut,
    OptIn,
    Other,
}

/// <summary>
/// Reads a citizen's SMS the way the contract says: the first word decides, in any case,
/// with or without accents or punctuation. Tolerant of how people actually type on a phone
/// (greetings and "je veux" before the word, doubled letters, emoji), but never reads a
/// cancellation into a reply that is not plainly one: a wrong "cancel" frees a slot the
/// citizen meant to keep, a wrong "other" only costs them the help text.
/// </summary>
public static class ReplyParser
{
    // The decisive word is among the first few: the rest of a long SMS is never read.
    private const int MaxCharacters = 200;
    private const int MaxWords = 8;

    // Words people put before their answer ("Bonjour, je veux annuler"), in squeezed form
    // (see Squeeze). Negations (ne, pas, n') are deliberately absent: they end the search.
    private static readonly HashSet<string> Fillers =
    [
        "bonjour", "bonsoir", "salut", "coucou", "helo", "bjr", "bsr", "slt",
        "madame", "monsieur", "me", "mr", "mle",
        "je", "moi", "veux", "voudrais", "voudrai", "souhaite", "souhaiterais", "souhaiterai",
        "aimerais", "aimerai", "vais", "dois",
        "merci", "de", "svp", "stp", "vous", "te", "il", "plait", "on", "pouvez", "pouriez",
        "alors", "euh",
    ];

    private static readonly HashSet<string> ConfirmWords =
    [
        "oui", "o", "ok", "1", "oiu", "ouais", "ouai", "okay", "okey", "oke", "oki", "yes",
        "dacord", "dac", "acord",
    ];

    private static readonly HashSet<string> CancelWords = ["non", "n", "2"];

    // The words of the other languages (CONTRACT §9.4), squeezed and folded like the rest: read
    // only for a citizen of that language, since some mean something else in French ("si": "if").
    private static readonly Dictionary<string, (string[] Confirm, string[] Cancel, string[] Reschedule)> OtherLanguages =
        new(StringComparer.Ordinal)
        {
            ["en"] = (["yes", "y", "yep", "yeah", "ok"], ["no", "nope", "cancel"], ["change", "reschedule", "new"]),
            ["es"] = (["si", "vale", "confirmo", "confirmar"], ["no", "anular", "cancelar"], ["cambiar", "cambio"]),
            ["pt"] = (["sim", "confirmo", "confirmar"], ["nao", "cancelar"], ["mudar", "alterar"]),
            ["tr"] = (["evet", "tamam", "onay", "onayliyorum"], ["hayir", "iptal"], ["degistir", "degis"]),
            ["ar"] = (["نعم", "اكيد", "أكيد"], ["لا"], ["تغيير"]),
        };

    // Elided words that are only grammar ("j'annule", "d'accord", "l'annuler") are skipped;
    // "n'" is a negation ("n'annulez pas") and ends the search.
    private static readonly HashSet<string> Elisions = ["j", "d", "l", "m", "s", "t", "c", "qu"];

    /// <summary>A reply of a citizen written to in French.</summary>
    public static ReplyIntent Parse(string? body) => Parse(body, null);

    /// <summary>
    /// A reply of a citizen written to in <paramref name="language"/>: the words of that language
    /// and the French ones; 1, 2 and 3 in every language.
    /// </summary>
    public static ReplyIntent Parse(string? body, string? language)
    {
        var words = OtherLanguages.GetValueOrDefault(language ?? "");
        if (string.IsNullOrWhiteSpace(body))
        {
            return ReplyIntent.Other;
        }

        var parsed = Words(body);
        for (var i = 0; i < parsed.Count; i++)
        {
            var word = parsed[i];
            if (word.Elided ? Elisions.Contains(word.Text) : Fillers.Contains(word.Text))
            {
                continue;
            }

            var intent = word.Elided ? ReplyIntent.Other : Decide(word.Text, words);
            if (intent == ReplyIntent.Cancel && parsed.Skip(i + 1).Any(w => Contradicts(w, words)))
            {
                // "non oui", "2 ou 3", "non, je préfère reporter": not plainly a cancellation.
                return ReplyIntent.Other;
            }

            return intent;
        }

        return ReplyIntent.Other;
    }

    private static bool Contradicts(Word word, (string[] Confirm, string[] Cancel, string[] Reschedule) language) =>
        !word.Elided && Decide(word.Text, language) is ReplyIntent.Confirm or ReplyIntent.Reschedule;

    private static ReplyIntent Decide(string word, (string[] Confirm, string[] Cancel, string[] Reschedule) language)
    {
        if (language.Confirm is not null)
        {
            if (language.Confirm.Contains(word))
            {
                return ReplyIntent.Confirm;
            }

            if (language.Cancel.Contains(word))
            {
                return ReplyIntent.Cancel;
            }

            if (language.Reschedule.Contains(word))
            {
                return ReplyIntent.Reschedule;
            }
        }

        if (ConfirmWords.Contains(word) || word.StartsWith("confirm", StringComparison.Ordinal)
            || word.Replace("oui", "", StringComparison.Ordinal).Length == 0)
        {
            return ReplyIntent.Confirm;
        }

        // "annuler", "annulé", "annulation" and the typos "anuler", "annuller" all squeeze to "anul…".
        if (CancelWords.Contains(word) || word.StartsWith("anul", StringComparison.Ordinal))
        {
            return ReplyIntent.Cancel;
        }

        if (word == "3" || StartsWithAny(word, "report", "decal", "chang", "modif", "deplac", "repous"))
        {
            return ReplyIntent.Reschedule;
        }

        // "stop", "stopper"; "arrêt", "arrêter", "arrêtez" (squeezed: "aret…").
        if (StartsWithAny(word, "stop", "aret"))
        {
            return ReplyIntent.OptOut;
        }

        return word == "start" ? ReplyIntent.OptIn : ReplyIntent.Other;
    }

    private static bool StartsWithAny(string word, params ReadOnlySpan<string> prefixes)
    {
        foreach (var prefix in prefixes)
        {
            if (word.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private readonly record struct Word(string Text, bool Elided);

    /// <summary>The first words: lower case, ASCII letters, letters squeezed, emoji of approval as "ok".</summary>
    private static List<Word> Words(string body)
    {
        var text = body.AsSpan().TrimStart();
        if (text.Length > MaxCharacters)
        {
            text = text[..MaxCharacters];
        }

        var words = new List<Word>(MaxWords);
        var current = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (words.Count >= MaxWords)
            {
                break;
            }

            if (Rune.IsLetter(rune) || rune.Value is >= '0' and <= '9')
            {
                AppendFolded(current, rune);
            }
            else if (Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.NonSpacingMark)
            {
                // A combining accent typed after its letter: the letter is enough.
            }
            else if (rune.Value is '\'' or '’' or '‘' or '`' or '´' or 'ʼ')
            {
                Flush(words, current, elided: true);
            }
            else
            {
                Flush(words, current, elided: false);
                if (IsApproval(rune))
                {
                    words.Add(new Word("ok", Elided: false));
                }
            }
        }

        Flush(words, current, elided: false);
        return words;
    }

    // 👍 👌 ✅ ✔ 🆗: an answer on their own. Skin tones and variation selectors that follow
    // are separators like any other symbol.
    private static bool IsApproval(Rune rune) => rune.Value is 0x1F44D or 0x1F44C or 0x2705 or 0x2714 or 0x1F197;

    private static void AppendFolded(StringBuilder current, Rune rune)
    {
        if (rune.IsBmp && LatinLetters.ToAscii((char)rune.Value) is { } ascii)
        {
            current.Append(ascii.ToLowerInvariant());
        }
        else
        {
            current.Append(Rune.ToLowerInvariant(rune).ToString());
        }
    }

    private static void Flush(List<Word> words, StringBuilder current, bool elided)
    {
        if (current.Length == 0)
        {
            return;
        }

        words.Add(new Word(Squeeze(current), elided));
        current.Clear();
    }

    /// <summary>
    /// Letters typed twice count once: "ouiii", "okk" and "annuller" become "oui", "ok",
    /// "anuler"; the word lists above are written squeezed too. Digits are kept: "22" is not "2".
    /// </summary>
    private static string Squeeze(StringBuilder word)
    {
        var squeezed = new StringBuilder(word.Length);
        for (var i = 0; i < word.Length; i++)
        {
            if (i > 0 && word[i] == word[i - 1] && char.IsLetter(word[i]))
            {
                continue;
            }

            squeezed.Append(word[i]);
        }

        return squeezed.ToString();
    }
}
