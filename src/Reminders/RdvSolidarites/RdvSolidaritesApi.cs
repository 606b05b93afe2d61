using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RappelRdv.Reminders.RdvSolidarites;

/// <summary>
/// <c>rdvSolidarites.api</c> of a tenant as stored (CONTRACT §10): where and as whom RappelRdv writes
/// the citizens' answers back to RDV-Solidarités. <see cref="Password"/> and <see cref="SharedSecret"/>
/// hold the secrets protected by <see cref="RdvSolidaritesSecrets"/>, never in clear; exactly one is set.
/// </summary>
public sealed record RdvSolidaritesApi(string BaseUrl, string Email, string? Password, string? SharedSecret, RdvSolidaritesAgent? Agent)
{
    /// <summary>A partner's shared secret (<c>X-Agent-Auth-Signature</c>) rather than an agent's password (sign-in tokens).</summary>
    public bool IsPartner => SharedSecret is not null;

    /// <summary>
    /// <c>X-Agent-Auth-Signature</c>: the hex HMAC-SHA256, keyed with the shared secret, of the agent as
    /// RDV-Solidarités' <c>agent_auth_base_controller.rb</c> serialises it (<c>{ id:, first_name:,
    /// last_name:, email: }.to_json</c>: compact, in that order, Rails' escaping).
    /// </summary>
    public static string AgentSignature(string sharedSecret, RdvSolidaritesAgent agent, string email)
    {
        var payload = string.Create(CultureInfo.InvariantCulture,
            $"{{\"id\":{agent.Id},\"first_name\":{RailsJson(agent.FirstName)},\"last_name\":{RailsJson(agent.LastName)},\"email\":{RailsJson(email)}}}");
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(sharedSecret), Encoding.UTF8.GetBytes(payload)));
    }

    /// <summary>
    /// A JSON string as ActiveSupport writes it: UTF-8 kept as it is, quotes, backslashes and controls
    /// escaped, and (its <c>escape_html_entities_in_json</c>, on in Rails) &lt; &gt; &amp; U+2028 U+2029
    /// as <c>\u…</c>. A name with an apostrophe or an accent signs the same bytes on both sides.
    /// </summary>
    internal static string RailsJson(string value)
    {
        var builder = new StringBuilder("\"", value.Length + 2);
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => builder.Append("\\\""),
                '\\' => builder.Append("\\\\"),
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                '\b' => builder.Append("\\b"),
                '\f' => builder.Append("\\f"),
                '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ' => builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => builder.Append(c),
            };
        }

        return builder.Append('"').ToString();
    }
}

/// <summary>The agent a partner acts as, as RDV-Solidarités knows it (its id, names; the e-mail is <c>api.email</c>).</summary>
public sealed record RdvSolidaritesAgent(long Id, string FirstName, string LastName);
