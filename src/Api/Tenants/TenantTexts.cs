using System.Text.RegularExpressions;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Tenants;
using RappelRdv.Reminders.Texts;

namespace RappelRdv.Api.Tenants;

/// <summary>
/// The texts part of a tenant's settings: checked when the tenant is written (each bad template
/// named by its path, such as <c>texts.templates.fr.reminder</c>) and shown with a preview.
/// </summary>
internal static partial class TenantTextsValidation
{
    public const int MaxVariants = 10;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,32}$")]
    private static partial Regex VariantName();

    public static TenantTexts? Validate(TextsRequest? request, FieldErrors errors)
    {
        if (request is null)
        {
            return null;
        }

        var defaultLanguage = Languages.French;
        if (request.DefaultLanguage is not null)
        {
            if (Languages.Supported(request.DefaultLanguage) is { } language)
            {
                defaultLanguage = language;
            }
            else
            {
                errors.Add("texts.defaultLanguage", $"Must be a supported language: {string.Join(", ", Languages.Codes)}.");
            }
        }

        var templates = Templates(request.Templates, "texts.templates", errors);

        TextExperiment? experiment = null;
        if (request.Experiment is { } trial)
        {
            if (string.IsNullOrWhiteSpace(trial.Name) || trial.Name.Length > 64)
            {
                errors.Add("texts.experiment.name", "Required: a name of 1 to 64 characters, such as 'cout-absence'.");
            }

            var variants = new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>(StringComparer.Ordinal);
            if (trial.Variants is null || trial.Variants.Count is < 2 or > MaxVariants)
            {
                errors.Add("texts.experiment.variants", $"Required: 2 to {MaxVariants} named variants, such as {{ \"A\": {{}}, \"B\": {{ \"fr\": {{ \"reminder\": \"…\" }} }} }}.");
            }
            else
            {
                foreach (var (name, variant) in trial.Variants)
                {
                    if (!VariantName().IsMatch(name))
                    {
                        errors.Add($"texts.experiment.variants.{name}", "A variant name is 1 to 32 letters, digits, '-' or '_'.");
                        continue;
                    }

                    variants[name] = Templates(variant, $"texts.experiment.variants.{name}", errors);
                }
            }

            experiment = new TextExperiment(trial.Name ?? "", variants);
        }

        return new TenantTexts(defaultLanguage, templates, experiment);
    }

    private static Dictionary<string, IReadOnlyDictionary<string, string>> Templates(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string?>?>? request, string path, FieldErrors errors)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (tag, kinds) in request ?? new Dictionary<string, IReadOnlyDictionary<string, string?>?>())
        {
            if (Languages.Supported(tag) is not { } language)
            {
                errors.Add($"{path}.{tag}", $"Not a supported language: {string.Join(", ", Languages.Codes)}.");
                continue;
            }

            var byKind = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (kind, template) in kinds ?? new Dictionary<string, string?>())
            {
                var field = $"{path}.{tag}.{kind}";
                if (!SmsTexts.Kinds.Contains(kind))
                {
                    errors.Add(field, $"Not a kind of message: {string.Join(", ", SmsTexts.Kinds)}.");
                    continue;
                }

                var problems = TextTemplates.Check(field, language, template).ToList();
                foreach (var problem in problems)
                {
                    errors.Add(problem.Field, problem.Problem);
                }

                if (problems.Count == 0)
                {
                    byKind[kind] = template!;
                }
            }

            result[language] = byKind;
        }

        return result;
    }

    /// <summary>The texts as <c>GET</c> shows them, with the preview of each template the tenant wrote and of the built-in ones of its language.</summary>
    public static TextsView? ToView(TenantTexts? texts)
    {
        if (texts is null)
        {
            return null;
        }

        var preview = new List<TextPreviewView>();
        foreach (var kind in SmsTexts.Kinds)
        {
            preview.Add(Preview(texts.DefaultLanguage, kind, null, "built-in", null));
        }

        foreach (var (language, kinds) in texts.Templates ?? new Dictionary<string, IReadOnlyDictionary<string, string>>())
        {
            preview.AddRange(kinds.Select(k => Preview(language, k.Key, null, "tenant", k.Value)));
        }

        foreach (var (name, variant) in texts.Experiment?.Variants ?? new Dictionary<string, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>>())
        {
            foreach (var (language, kinds) in variant)
            {
                preview.AddRange(kinds.Select(k => Preview(language, k.Key, name, "variant", k.Value)));
            }
        }

        return new TextsView(
            texts.DefaultLanguage,
            texts.Templates ?? new Dictionary<string, IReadOnlyDictionary<string, string>>(),
            texts.Experiment is { } e ? new ExperimentView(e.Name, e.Variants) : null,
            preview);
    }

    private static TextPreviewView Preview(string language, string kind, string? variant, string source, string? template)
    {
        var filled = TextTemplates.Preview(language, kind, template);
        return new TextPreviewView(language, kind, variant, source, filled.Text, filled.Segments, filled.Encoding);
    }
}
