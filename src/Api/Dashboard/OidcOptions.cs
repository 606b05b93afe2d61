using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Api.Dashboard;

/// <summary>
/// <c>Oidc__*</c>: the OpenID Connect provider managers sign in with (ProConnect, or any certified
/// provider). Without <see cref="Authority"/> there is no such sign-in and the dashboard takes keys only.
/// </summary>
internal sealed class OidcOptions : IValidatableObject
{
    public const string Section = "Oidc";

    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Null: true outside Development. False lets an http provider serve local work.</summary>
    public bool? RequireHttpsMetadata { get; set; }

    /// <summary>Scopes asked for besides <c>openid email</c>, space-separated (ProConnect: <c>given_name usual_name</c>).</summary>
    public string? Scopes { get; set; }

    /// <summary>The e-mails allowed into <c>/hangfire</c> through the provider, besides the admin key.</summary>
    public List<string> Operators { get; set; } = [];

    public bool Enabled => !string.IsNullOrEmpty(Authority);

    public bool IsOperator(string email) => Operators.Contains(email.Trim(), StringComparer.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled && (!string.IsNullOrEmpty(ClientId) || !string.IsNullOrEmpty(ClientSecret)))
        {
            yield return new ValidationResult("Oidc__Authority is not set, but Oidc__ClientId or Oidc__ClientSecret is: set all three or none.");
        }

        if (Enabled)
        {
            if (!Uri.TryCreate(Authority, UriKind.Absolute, out var authority) || authority.Scheme is not ("https" or "http"))
            {
                yield return new ValidationResult("Oidc__Authority must be the provider's absolute URL, such as https://auth.agentconnect.gouv.fr/api/v2.");
            }

            if (string.IsNullOrEmpty(ClientId))
            {
                yield return new ValidationResult("Oidc__ClientId is not set: give the client id the provider registered.");
            }

            if (string.IsNullOrEmpty(ClientSecret))
            {
                yield return new ValidationResult("Oidc__ClientSecret is not set: give the client secret the provider registered.");
            }
        }
    }
}
