using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using RappelRdv.Reminders.RdvSolidarites;

namespace RappelRdv.Worker.RdvSolidarites;

/// <summary>What one attempt came to: done, final (never tried again), or to try again at a time.</summary>
internal sealed record WriteBackOutcome(bool Done, string? Reason, bool Final, TimeSpan? RetryAfter = null)
{
    public static readonly WriteBackOutcome Success = new(true, null, false);

    public static WriteBackOutcome Refused(string reason) => new(false, reason, true);

    public static WriteBackOutcome Later(string reason, TimeSpan? retryAfter = null) => new(false, reason, false, retryAfter);
}

/// <summary>
/// RDV-Solidarités' agent API as the write-back uses it (<c>docs/api/v1/description_api.md</c> and
/// <c>agent_auth_base_controller.rb</c> of betagouv/rdv-service-public): <c>PATCH
/// /api/v1/participations/{id}</c> with <c>{"participation":{"status":"excused"}}</c>, authenticated by an
/// agent's sign-in tokens or by a partner's signature. Tokens (<c>access-token</c>, <c>client</c>,
/// <c>uid</c>) are kept per tenant and account in this process and reused until a <c>401</c>; then one
/// new sign-in and the PATCH again at once. Secrets and tokens are never logged.
/// </summary>
internal sealed class RdvSolidaritesClient(HttpClient http, RdvSolidaritesSecrets secrets, TimeProvider clock)
{
    private static readonly ConcurrentDictionary<string, AgentTokens> Tokens = new(StringComparer.Ordinal);

    private const string ExcusedBody = """{"participation":{"status":"excused"}}""";

    private sealed record AgentTokens(string AccessToken, string Client, string Uid);

    private sealed record Answer(int Status, HttpResponseHeaders Headers);

    /// <summary>One attempt, within <paramref name="cancellationToken"/> (the attempt's one deadline).</summary>
    public async Task<WriteBackOutcome> WriteExcusedAsync(long tenantId, RdvSolidaritesApi api, long participationId, CancellationToken cancellationToken)
    {
        var url = $"{api.BaseUrl}/api/v1/participations/{participationId.ToString(CultureInfo.InvariantCulture)}";
        if (api.IsPartner)
        {
            if (secrets.Unprotect(api.SharedSecret!, out var problem) is not { } sharedSecret)
            {
                return WriteBackOutcome.Refused(problem!);
            }

            if (api.Agent is not { } agent)
            {
                return WriteBackOutcome.Refused("partner mode without rdvSolidarites.api.agent");
            }

            var signature = RdvSolidaritesApi.AgentSignature(sharedSecret, agent, api.Email);
            var answer = await PatchAsync(url, [("uid", api.Email), ("X-Agent-Auth-Signature", signature)], cancellationToken);
            return answer.Status == 401
                ? WriteBackOutcome.Refused("RDV-Solidarités refused the partner signature (401): check sharedSecret, agent and email")
                : Classify(answer);
        }

        if (secrets.Unprotect(api.Password!, out var unreadable) is not { } password)
        {
            return WriteBackOutcome.Refused(unreadable!);
        }

        // A PUT of the tenant stores a new ciphertext, so new settings sign in anew.
        var key = $"{tenantId}|{api.BaseUrl}|{api.Email}|{api.Password}";
        for (var signIns = 0; ; signIns++)
        {
            if (!Tokens.TryGetValue(key, out var tokens))
            {
                var (signedIn, refusal) = await SignInAsync(api, password, cancellationToken);
                if (signedIn is null)
                {
                    return refusal!;
                }

                tokens = Tokens[key] = signedIn;
            }

            var answer = await PatchAsync(url, [("access-token", tokens.AccessToken), ("client", tokens.Client), ("uid", tokens.Uid)], cancellationToken);
            if (answer.Status != 401)
            {
                Remember(key, answer.Headers);
                return Classify(answer);
            }

            Tokens.TryRemove(key, out _);
            if (signIns > 0)
            {
                return WriteBackOutcome.Refused("RDV-Solidarités refused the agent's fresh tokens (401 after a new sign-in)");
            }
        }
    }

    private async Task<(AgentTokens? Tokens, WriteBackOutcome? Refusal)> SignInAsync(RdvSolidaritesApi api, string password, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{api.BaseUrl}/api/v1/auth/sign_in")
        {
            Content = JsonContent.Create(new { email = api.Email, password }),
        };
        var answer = await SendAsync(request, cancellationToken);
        if (answer.Status is >= 200 and < 300)
        {
            return Header(answer.Headers, "access-token") is { } accessToken && Header(answer.Headers, "client") is { } client
                ? (new AgentTokens(accessToken, client, Header(answer.Headers, "uid") ?? api.Email), null)
                : (null, WriteBackOutcome.Refused("the sign-in answered without access-token and client headers: is baseUrl RDV-Solidarités?"));
        }

        return (null, answer.Status == 401
            ? WriteBackOutcome.Refused("RDV-Solidarités refused the sign-in (401): check rdvSolidarites.api.email and password")
            : Classify(answer, "the sign-in"));
    }

    private async Task<Answer> PatchAsync(string url, (string Name, string Value)[] headers, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, url)
        {
            Content = new StringContent(ExcusedBody, Encoding.UTF8, "application/json"),
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await SendAsync(request, cancellationToken);
    }

    /// <summary>Sends, then reads at most 64 KiB of the body under the same deadline: only the status and headers matter, and a hostile endpoint could stream without end.</summary>
    private async Task<Answer> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        await Events.EventDelivery.ReadBoundedAsync(response.Content, cancellationToken);
        return new Answer((int)response.StatusCode, response.Headers);
    }

    /// <summary>devise_token_auth may hand new tokens with an answer: the next call uses them.</summary>
    private static void Remember(string key, HttpResponseHeaders headers)
    {
        if (Header(headers, "access-token") is { } accessToken && Header(headers, "client") is { } client && Header(headers, "uid") is { } uid)
        {
            Tokens[key] = new AgentTokens(accessToken, client, uid);
        }
    }

    /// <summary>2xx done; 429, 408 and 5xx again later (429 at its Retry-After); any other answer is final.</summary>
    private WriteBackOutcome Classify(Answer answer, string what = "the PATCH")
    {
        var status = answer.Status;
        if (status is >= 200 and < 300)
        {
            return WriteBackOutcome.Success;
        }

        var reason = $"RDV-Solidarités answered {status} to {what}" + status switch
        {
            403 => " (the agent may not change this participation)",
            404 => " (no such participation, or not visible to the agent)",
            422 => " (the change was refused)",
            _ => "",
        };
        return status is 429 or 408 or >= 500
            ? WriteBackOutcome.Later(reason, status == 429 ? RetryAfter(answer.Headers) : null)
            : WriteBackOutcome.Refused(reason);
    }

    private TimeSpan? RetryAfter(HttpResponseHeaders headers) => headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - clock.GetUtcNow() is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { Length: > 0 } value ? value : null;
}
