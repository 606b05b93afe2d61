using System.Globalization;
using System.Text.RegularExpressions;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.RdvSolidarites;
using RappelRdv.Reminders.Tenants;

namespace RappelRdv.Api.Tenants;

internal static partial class TenantValidation
{
    [GeneratedRegex("^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
    private static partial Regex SlugPattern();

    /// <param name="quietHoursNull">
    /// <c>quietHours: null</c> means "no quiet hours" while an absent field means the default;
    /// System.Text.Json cannot tell them apart, so the endpoint looks at the raw body.
    /// </param>
    public static TenantSettings? Validate(
        TenantRequest request, bool quietHoursNull, bool allowPrivateWebhooks, FieldErrors errors, string? slugInPath = null,
        RdvSolidaritesSecrets? rdvsSecrets = null)
    {
        var slug = request.Slug ?? slugInPath;
        if (string.IsNullOrEmpty(slug) || !SlugPattern().IsMatch(slug))
        {
            errors.Add("slug", "Required: 1 to 64 lower-case letters, digits and dashes, such as 'var-cd83'.");
        }
        else if (slugInPath is not null && slug != slugInPath)
        {
            errors.Add("slug", "The slug of the body must be that of the URL.");
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors.Add("name", "Required, at most 200 characters.");
        }

        var timeZone = request.TimeZone ?? "Europe/Paris";
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _) || !timeZone.Contains('/', StringComparison.Ordinal))
        {
            errors.Add("timeZone", "Must be an IANA time zone, such as 'Europe/Paris' or 'America/Guadeloupe'.");
        }

        var reminders = request.Reminders ?? [new ReminderStepRequest("sms", "P2D"), new ReminderStepRequest("voice", "P1D", true)];
        if (reminders.Count > 5)
        {
            errors.Add("reminders", "At most 5 reminders.");
        }

        var steps = ValidateSteps(reminders, "reminders", errors);

        QuietHours? quiet = null;
        var quietRequest = request.QuietHours ?? (quietHoursNull ? null : new QuietHoursRequest("20:00", "08:30"));
        if (quietRequest is not null)
        {
            var from = ParseTime(quietRequest.From);
            var to = ParseTime(quietRequest.To);
            if (from is null)
            {
                errors.Add("quietHours.from", "Must be a time 'HH:mm', such as '20:00'.");
            }

            if (to is null)
            {
                errors.Add("quietHours.to", "Must be a time 'HH:mm', such as '08:30'.");
            }

            if (from is not null && to is not null)
            {
                if (from == to)
                {
                    errors.Add("quietHours", "'from' and 'to' must differ.");
                }

                quiet = new QuietHours(from.Value, to.Value);
            }
        }

        var holdout = request.HoldoutPercent ?? 0;
        if (holdout is < 0 or > 50)
        {
            errors.Add("holdoutPercent", "Must be between 0 and 50.");
        }

        var retention = request.RetentionDays ?? 180;
        if (retention is < 1 or > 3650)
        {
            errors.Add("retentionDays", "Must be between 1 and 3650.");
        }

        string? webhookUrl = null;
        if (request.Webhook is not null)
        {
            webhookUrl = request.Webhook.Url;
            if (WebhookUrls.Check(webhookUrl, allowPrivateWebhooks) is { } problem)
            {
                errors.Add("webhook.url", problem);
            }
        }

        string? rdvsSecret = null;
        if (request.RdvSolidarites is not null)
        {
            rdvsSecret = request.RdvSolidarites.Secret;
            if (string.IsNullOrEmpty(rdvsSecret) || rdvsSecret.Length < 8 || rdvsSecret.Length > 256)
            {
                errors.Add("rdvSolidarites.secret", "Required with rdvSolidarites: 8 to 256 characters.");
            }
        }

        var rdvsApi = rdvsSecrets is null ? null
            : RappelRdv.Api.RdvSolidarites.RdvSolidaritesApiSettings.Validate(request.RdvSolidarites?.Api, allowPrivateWebhooks, rdvsSecrets, errors);
        var budget = ValidateBudget(request.Budget, errors);
        var managers = ValidateManagers(request.Managers, errors);
        var texts = TenantTextsValidation.Validate(request.Texts, errors);
        var riskReminders = ValidateRiskReminders(request.RiskReminders, errors);

        return errors.Any
            ? null
            : new TenantSettings(
                TimeZone: timeZone,
                Reminders: steps,
                QuietHours: quiet,
                NotifyOnCreate: request.NotifyOnCreate ?? true,
                NotifyOnChange: request.NotifyOnChange ?? true,
                NotifyOnCancel: request.NotifyOnCancel ?? true,
                HoldoutPercent: holdout,
                RetentionDays: retention,
                WebhookUrl: webhookUrl,
                RdvSolidaritesSecret: rdvsSecret,
                Budget: budget,
                Managers: managers,
                Texts: texts,
                RdvSolidaritesApi: rdvsApi)
            {
                RiskReminders = riskReminders,
            };
    }

    /// <summary>Reminder steps, as in <c>reminders</c>; each bad field is named under <paramref name="field"/>.</summary>
    private static List<ReminderStep> ValidateSteps(IReadOnlyList<ReminderStepRequest?> requested, string field, FieldErrors errors)
    {
        var steps = new List<ReminderStep>();
        for (var i = 0; i < requested.Count; i++)
        {
            var step = requested[i];
            if (step is null)
            {
                errors.Add($"{field}[{i}]", "Must be an object.");
                continue;
            }

            if (step.Channel is null || !Channels.Reminder.Contains(step.Channel))
            {
                errors.Add($"{field}[{i}].channel", "Must be 'sms' or 'voice'.");
            }

            if (!IsoDuration.TryParse(step.Before, out var before) || before <= TimeSpan.Zero || before > TimeSpan.FromDays(60))
            {
                errors.Add($"{field}[{i}].before", "Must be an ISO 8601 duration between PT1M and P60D, such as 'P2D' or 'PT3H'.");
            }

            steps.Add(new ReminderStep(step.Channel ?? "", step.Before ?? "", step.OnlyIfUnconfirmed ?? false));
        }

        return steps;
    }

    /// <summary>CONTRACT §11: absent or null is off; otherwise every field is checked and named.</summary>
    private static RiskReminders? ValidateRiskReminders(RiskRemindersRequest? request, FieldErrors errors)
    {
        if (request is null)
        {
            return null;
        }

        if (request.MinNoShows is not >= 1)
        {
            errors.Add("riskReminders.minNoShows", "Required: at least 1 (no-shows in the lookback period that make a citizen at risk).");
        }

        if (request.LookbackDays is not (>= 1 and <= 730))
        {
            errors.Add("riskReminders.lookbackDays", "Required: 1 to 730 days.");
        }

        if (request.HoldoutPercent is < 0 or > 50)
        {
            errors.Add("riskReminders.holdoutPercent", "Must be between 0 and 50.");
        }

        var add = new List<ReminderStep>();
        if (request.Add is not { Count: >= 1 and <= 5 })
        {
            errors.Add("riskReminders.add", "Required: 1 to 5 reminders, as in 'reminders', such as [{\"channel\":\"voice\",\"before\":\"P1D\"}].");
        }
        else
        {
            add = ValidateSteps(request.Add, "riskReminders.add", errors);
        }

        return new RiskReminders(request.MinNoShows ?? 0, request.LookbackDays ?? 0, add, request.HoldoutPercent ?? 0);
    }

    /// <summary>An absent budget, or one with only nulls, is no cap: stored as none.</summary>
    private static Budget? ValidateBudget(BudgetRequest? request, FieldErrors errors)
    {
        if (request is null)
        {
            return null;
        }

        if (request.MonthlySegments is < 1 or > 100_000_000)
        {
            errors.Add("budget.monthlySegments", "Must be null (no cap) or between 1 and 100000000.");
        }

        if (request.MonthlyCallMinutes is < 1 or > 10_000_000)
        {
            errors.Add("budget.monthlyCallMinutes", "Must be null (no cap) or between 1 and 10000000.");
        }

        return request.MonthlySegments is null && request.MonthlyCallMinutes is null
            ? null
            : new Budget(request.MonthlySegments, request.MonthlyCallMinutes);
    }

    /// <summary>The e-mails let into the dashboard through OpenID Connect, kept lower-case and once each.</summary>
    private static IReadOnlyList<string>? ValidateManagers(IReadOnlyList<string>? managers, FieldErrors errors)
    {
        if (managers is null)
        {
            return null;
        }

        if (managers.Count > 500)
        {
            errors.Add("managers", "At most 500 e-mails.");
        }

        var kept = new List<string>();
        for (var i = 0; i < managers.Count; i++)
        {
            // The form sign-ins are compared in (Dashboard/OidcOptions.cs): look-alike characters are refused, not folded.
            var email = RappelRdv.Api.Dashboard.EmailAddresses.Normalize(managers[i]);
            if (email is null || !EmailPattern().IsMatch(email))
            {
                errors.Add($"managers[{i}]", "Must be an e-mail address in ASCII, such as 'agent@var.fr' (an internationalised domain in its xn-- form).");
            }
            else if (!kept.Contains(email, StringComparer.Ordinal))
            {
                kept.Add(email);
            }
        }

        return kept;
    }

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    private static TimeOnly? ParseTime(string? text) =>
        text is { Length: 5 } && TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out var time)
            ? time
            : null;
}

