using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace RappelRdv.Api.Tests.EndToEnd;

/// <summary>
/// RDV-Solidarités' agent API as its code behaves (betagouv/rdv-service-public): <c>POST
/// /api/v1/auth/sign_in</c> answers the three devise_token_auth headers for the right e-mail and
/// password (401 otherwise); <c>PATCH /api/v1/participations/{id}</c> lets in a request that carries
/// either valid tokens, or <c>uid</c> + <c>X-Agent-Auth-Signature</c> equal to the hex HMAC-SHA256,
/// keyed with the shared secret, of the agent's <c>{id, first_name, last_name, email}.to_json</c>
/// (agent_auth_base_controller.rb), and 401 otherwise. What it was sent is kept for the tests.
/// </summary>
public sealed class FakeRdvSolidarites : IDisposable
{
    public const string Email = "rappels@var.fr";
    public const string Password = "mot-de-passe-de-l-agent-Rappels-83";
    public const string SharedSecret = "partner-shared-secret-0123456789abcdef";
    public const long AgentId = 4242;
    public const string AgentFirstName = "Service";
    public const string AgentLastName = "Rappels";

    private readonly ConcurrentDictionary<string, string> validTokens = new(); // client → access-token
    private readonly ConcurrentQueue<int> forcedAnswers = new();

    public FakeRdvSolidarites()
    {
        Server.Given(Request.Create().WithPath("/api/v1/auth/sign_in").UsingPost()).RespondWith(Response.Create().WithCallback(SignIn));
        Server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher(@"^/api/v1/participations/\d+$")).UsingPatch())
            .RespondWith(Response.Create().WithCallback(Patch));
    }

    public WireMockServer Server { get; } = WireMockServer.Start();

    public string BaseUrl => Server.Url!;

    public int SignIns;

    /// <summary>Each PATCH RDV-Solidarités let in and acted on: the participation id and the status written.</summary>
    public ConcurrentQueue<(long ParticipationId, string Status)> Written { get; } = new();

    /// <summary>Every PATCH received, let in or not.</summary>
    public int Patches;

    /// <summary>The next PATCHes that pass authentication are answered with these statuses instead (500, 404…).</summary>
    public void AnswerNext(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            forcedAnswers.Enqueue(status);
        }
    }

    /// <summary>The tokens handed out so far stop working (their 24 hours are over).</summary>
    public void ExpireTokens() => validTokens.Clear();

    public void Reset()
    {
        validTokens.Clear();
        forcedAnswers.Clear();
        Written.Clear();
        SignIns = 0;
        Patches = 0;
    }

    /// <summary>A webhook of RDV-Solidarités to the tenant's URL, signed as it signs them (<c>X-Lapin-Signature</c>).</summary>
    internal static HttpRequestMessage SignedWebhook(RdvsWebhook hook, string slug, string secret)
    {
        var body = hook.ToBytes();
        var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/rdv-solidarites/{slug}") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("application/json; charset=utf-8");
        request.Headers.Add("X-Lapin-Signature", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)));
        return request;
    }

    private ResponseMessage SignIn(IRequestMessage request)
    {
        Interlocked.Increment(ref SignIns);
        var body = JsonNode.Parse(request.Body ?? "{}");
        if ((string?)body?["email"] != Email || (string?)body?["password"] != Password)
        {
            return Json(401, """{"success":false,"errors":["Identifiants de connexion invalides. Veuillez réessayer."]}""");
        }

        var client = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        validTokens[client] = token;
        var answer = Json(200, """{"data":{"id":4242,"email":"rappels@var.fr"}}""");
        answer.Headers!["access-token"] = new(token);
        answer.Headers["client"] = new(client);
        answer.Headers["uid"] = new(Email);
        answer.Headers["token-type"] = new("Bearer");
        return answer;
    }

    private ResponseMessage Patch(IRequestMessage request)
    {
        Interlocked.Increment(ref Patches);
        if (!Authenticated(request))
        {
            return Json(401, """{"errors":["Vous devez vous connecter ou vous inscrire pour continuer."]}""");
        }

        if (forcedAnswers.TryDequeue(out var forced))
        {
            var refusal = Json(forced, "{}");
            if (forced == 429)
            {
                // Rack::Attack's answer: wait two minutes.
                refusal.Headers!["Retry-After"] = new("120");
            }

            return refusal;
        }

        var status = (string?)JsonNode.Parse(request.Body ?? "{}")?["participation"]?["status"];
        if (status is not ("unknown" or "seen" or "excused" or "revoked" or "noshow"))
        {
            return Json(422, """{"errors":{"status":["n'est pas inclus(e) dans la liste"]}}""");
        }

        var id = long.Parse(request.Path.Split('/')[^1], System.Globalization.CultureInfo.InvariantCulture);
        Written.Enqueue((id, status));
        return Json(200, "{\"participation\":{\"id\":" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) + ",\"status\":\"" + status + "\"}}");
    }

    private bool Authenticated(IRequestMessage request)
    {
        var headers = request.Headers ?? new Dictionary<string, WireMockList<string>>();
        string? Header(string name) => headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

        if (Header("X-Agent-Auth-Signature") is { } signature)
        {
            // agent_auth_base_controller.rb: OpenSSL::HMAC.hexdigest("SHA256", secret, { id:, first_name:, last_name:, email: }.to_json)
            var payload = JsonSerializer.Serialize(new { id = AgentId, first_name = AgentFirstName, last_name = AgentLastName, email = Email });
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SharedSecret), Encoding.UTF8.GetBytes(payload)));
            return Header("uid") == Email && signature == expected;
        }

        return Header("uid") == Email && Header("client") is { } client && Header("access-token") is { } token
            && validTokens.TryGetValue(client, out var valid) && valid == token;
    }

    private static ResponseMessage Json(int status, string body) => new()
    {
        StatusCode = status,
        Headers = new Dictionary<string, WireMockList<string>> { ["Content-Type"] = new("application/json; charset=utf-8") },
        BodyData = new BodyData { BodyAsString = body, DetectedBodyType = BodyType.String },
    };

    public void Dispose() => Server.Stop();
}
