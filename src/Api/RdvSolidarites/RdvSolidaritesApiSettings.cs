using System.Text.RegularExpressions;
using RappelRdv.Api.Infrastructure;
using RappelRdv.Contracts;
using RappelRdv.Reminders.Events;
using RappelRdv.Reminders.RdvSolidarites;

namespace RappelRdv.Api.RdvSolidarites;

/// <summary>
/// <c>rdvSolidarites.api</c> of a tenant (CONTRACT §10): checked, its secret protected before it is
/// stored, and shown without it. The settings are read by the Worker at each write-back, so a change
/// takes effect at the next one, without a restart.
/// </summary>
internal static partial class RdvSolidaritesApiSettings
{
    private const string Field = "rdvSolidarites.api";

    [GeneratedRegex(@"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    private static partial Regex EmailPattern();

    public static RdvSolidaritesApi? Validate(RdvSolidaritesApiRequest? request, bool allowPrivateNetworks, RdvSolidaritesSecrets secrets, FieldErrors errors)
    {
        if (request is null)
        {
            return null;
        }

        // The egress rules of events: https to a public address on 443, unless private networks are allowed.
        if (WebhookUrls.Check(request.BaseUrl, allowPrivateNetworks) is { } problem)
        {
            errors.Add($"{Field}.baseUrl", problem);
        }
        else if (new Uri(request.BaseUrl!) is { Query.Length: > 0 } or { Fragment.Length: > 0 } or { UserInfo.Length: > 0 })
        {
            errors.Add($"{Field}.baseUrl", "The instance's address alone, such as 'https://www.rdv-solidarites.fr': no user, query or fragment.");
        }

        if (request.Email is not { Length: <= 254 } email || !EmailPattern().IsMatch(email))
        {
            errors.Add($"{Field}.email", "Required: the agent account's e-mail, at most 254 characters.");
        }

        ControlCharacters.Check(errors, $"{Field}.email", request.Email);
        var (password, sharedSecret) = (request.Password, request.SharedSecret);
        if (password is null && sharedSecret is null)
        {
            errors.Add(Field, "Needs 'password' (an agent account's) or 'sharedSecret' (a partner's, with 'agent').");
        }
        else if (password is not null && sharedSecret is not null)
        {
            errors.Add(Field, "Either 'password' or 'sharedSecret', not both.");
        }
        else if (password is not null && password.Length is < 1 or > 256)
        {
            errors.Add($"{Field}.password", "1 to 256 characters.");
        }
        else if (sharedSecret is not null && sharedSecret.Length is < 16 or > 512)
        {
            errors.Add($"{Field}.sharedSecret", "16 to 512 characters.");
        }

        RdvSolidaritesAgent? agent = null;
        if (sharedSecret is not null)
        {
            agent = ValidateAgent(request.Agent, errors);
        }
        else if (request.Agent is not null)
        {
            errors.Add($"{Field}.agent", "Only with 'sharedSecret': in password mode the agent is the account signed in.");
        }

        if (!secrets.CanProtect)
        {
            errors.Add(Field, "The operator has set neither RdvSolidarites__SecretsKey nor Admin__ApiKey: the secret cannot be stored.");
        }

        return errors.Any
            ? null
            : new RdvSolidaritesApi(request.BaseUrl!.TrimEnd('/'), request.Email!,
                password is null ? null : secrets.Protect(password),
                sharedSecret is null ? null : secrets.Protect(sharedSecret),
                agent);
    }

    private static RdvSolidaritesAgent? ValidateAgent(RdvSolidaritesAgentRequest? agent, FieldErrors errors)
    {
        if (agent is null)
        {
            errors.Add($"{Field}.agent", "Required with 'sharedSecret': { \"id\", \"firstName\", \"lastName\" } of the agent as RDV-Solidarités knows it.");
            return null;
        }

        if (agent.Id is not > 0)
        {
            errors.Add($"{Field}.agent.id", "Required: the agent's id in RDV-Solidarités.");
        }

        foreach (var (name, value) in new[] { ("firstName", agent.FirstName), ("lastName", agent.LastName) })
        {
            if (string.IsNullOrWhiteSpace(value) || value.Length > 100)
            {
                errors.Add($"{Field}.agent.{name}", "Required, at most 100 characters, exactly as in RDV-Solidarités (it is signed).");
            }

            ControlCharacters.Check(errors, $"{Field}.agent.{name}", value);
        }

        return agent.Id is > 0 && agent.FirstName is not null && agent.LastName is not null
            ? new RdvSolidaritesAgent(agent.Id.Value, agent.FirstName, agent.LastName)
            : null;
    }

    public static RdvSolidaritesApiView? ToView(RdvSolidaritesApi? api) => api is null
        ? null
        : new RdvSolidaritesApiView(api.BaseUrl, api.Email, api.Password is not null, api.SharedSecret is not null,
            api.Agent is { } a ? new RdvSolidaritesAgentView(a.Id, a.FirstName, a.LastName) : null);
}
