using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;

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

    /// <summary>
    /// An answer without <c>email_verified</c> is refused unless this is true: say so only of a provider
    /// that gives nothing but addresses it checked (ProConnect: the agent's own administration vouches
    /// for it, and the claim is not among those it sends). <c>email_verified: false</c> is refused whatever this says.
    /// </summary>
    public bool AllowMissingEmailVerified { get; set; }

    public bool Enabled => !string.IsNullOrEmpty(Authority);

    /// <summary>Whether this address, as <see cref="EmailAddresses.Normalize"/> gave it, is one of <see cref="Operators"/> (normalised alike).</summary>
    public bool IsOperator(string email) =>
        EmailAddresses.Normalize(email) is { } normalized && Operators.Any(o => EmailAddresses.Normalize(o) == normalized);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enabled && (!string.IsNullOrEmpty(ClientId) || !string.IsNullOrEmpty(ClientSecret)))
        {
            yield return new ValidationResult("Oidc__Authority is not set, but Oidc__ClientId or Oidc__ClientSecret is: set all three or none.");
        }

        for (var i = 0; i < Operators.Count; i++)
        {
            if (EmailAddresses.Normalize(Operators[i]) is null)
            {
                yield return new ValidationResult($"Oidc__Operators__{i} is not an e-mail address in ASCII (an internationalised domain in its xn-- form).");
            }
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

/// <summary>
/// The one form in which a manager's or an operator's address is compared: ASCII, lower-cased (A-Z
/// only). Anything else is refused rather than folded: a non-ASCII character anywhere (the Kelvin
/// sign U+212A, which <see cref="string.ToLowerInvariant"/> turns into <c>k</c>; fullwidth letters;
/// Cyrillic look-alikes). An internationalised domain is written in its ASCII form
/// (<c>agent@xn--prfecture-c4a.fr</c>), in the list as by the provider, and compared as that text:
/// it can never fold into another domain.
/// <para>
/// Not IDNA conversion at compare time: <see cref="System.Globalization.IdnMapping"/> folds U+212A and
/// fullwidth letters into ASCII with ICU and not in invariant-globalization mode (this project's), so
/// the same address would be a look-alike on one host and refused on another.
/// </para>
/// </summary>
internal static partial class EmailAddresses
{
    /// <summary>The address in its compared form, or null when it is not one (or only a look-alike of one).</summary>
    public static string? Normalize(string? address)
    {
        var text = address?.Trim();
        return text is { Length: > 0 and <= 254 } && Address().IsMatch(text) ? AsciiLower(text) : null;
    }

    // Local part: printable ASCII except specials (no quoted forms: nobody's agent address uses them);
    // domain: two labels at least, each letters, digits and inner hyphens (xn-- labels included), as DNS has them.
    [GeneratedRegex(@"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex Address();

    /// <summary>Lower-cases A-Z only (the rest is refused before).</summary>
    private static string AsciiLower(string text) => string.Create(text.Length, text, (span, source) =>
    {
        for (var i = 0; i < source.Length; i++)
        {
            span[i] = source[i] is >= 'A' and <= 'Z' ? (char)(source[i] + 32) : source[i];
        }
    });
}
