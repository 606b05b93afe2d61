using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace RappelRdv.Reminders.Security;

/// <summary>
/// The secrets a host refuses to start with outside Development: a placeholder copied from an
/// example file, or a value too short to withstand guessing. Both hosts call this first thing, so
/// that a deployment shipped with <c>change-me</c> never serves a single request.
/// </summary>
public static class StartupSecrets
{
    public const int MinimumLength = 32;

    /// <summary>Each setting that holds a shared secret. Unset is allowed here (their own options say when one is required).</summary>
    public static readonly string[] Settings = ["Admin:ApiKey", "Twilio:AuthToken", "Metrics:Token", "RdvSolidarites:SecretsKey"];

    private static readonly string[] Placeholders = ["change-me", "changeme", "example", "xxxx"];

    /// <summary>Why this value may not be used as a secret, or null when it may.</summary>
    public static string? Weakness(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        if (Placeholders.FirstOrDefault(p => value.Contains(p, StringComparison.OrdinalIgnoreCase)) is { } placeholder)
        {
            return $"is a placeholder (it contains '{placeholder}')";
        }

        return value.Length < MinimumLength ? $"is shorter than {MinimumLength} characters" : null;
    }

    /// <summary>The one line that says which setting is refused, or null when every secret is acceptable (or in Development).</summary>
    public static string? Refusal(IConfiguration configuration, IHostEnvironment environment)
    {
        if (environment.IsDevelopment())
        {
            return null;
        }

        foreach (var setting in Settings)
        {
            if (Weakness(configuration[setting]) is { } weakness)
            {
                var name = setting.Replace(":", "__", StringComparison.Ordinal);
                return $"Refusing to start: {name} {weakness}; generate one with 'openssl rand -base64 48' (docs/SECURITY.md).";
            }
        }

        return null;
    }

    /// <summary>True when the host must not start: the reason is written as one line on stderr, and the caller exits non-zero.</summary>
    public static bool RefuseWeakSecrets(this IHostApplicationBuilder builder)
    {
        if (Refusal(builder.Configuration, builder.Environment) is not { } refusal)
        {
            return false;
        }

        Console.Error.WriteLine(refusal);
        return true;
    }
}
