using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using RappelRdv.Contracts;
using RappelRdv.TestSupport;
using Xunit.Abstractions;

namespace RappelRdv.Api.Tests.Fuzz;

/// <summary>
/// A fuzzer at every door: every operation of the served OpenAPI document, every Twilio and
/// RDV-Solidarités route and the logins get malformed, truncated, oversized, wrongly typed and
/// random bodies, headers, paths and query strings, from a seeded random (FUZZ_SEED). Nothing may
/// answer 5xx, every /v1 error is problem+json, and the database is the same after as before:
/// each request that carries a valid key to a door that writes is made surely invalid (a broken
/// body, an id that does not exist). In the suite: FUZZ_REQUESTS (default 600); bench/fuzz.sh runs
/// many more.
/// </summary>
public sealed class FuzzTests(ApiFactory api, ITestOutputHelper output) : IClassFixture<ApiFactory>
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];

    [Fact]
    public async Task No_request_at_any_door_gets_a_5xx_or_changes_the_database()
    {
        var count = int.Parse(Environment.GetEnvironmentVariable("FUZZ_REQUESTS") ?? "600", CultureInfo.InvariantCulture);
        var seed = int.Parse(Environment.GetEnvironmentVariable("FUZZ_SEED") ?? "1312", CultureInfo.InvariantCulture);
        api.Settings["Twilio:AuthToken"] = FakeTwilio.AuthToken;
        await api.Database.ResetAsync();
        // Each request from its own address: the limit on failed keys would otherwise close /v1 after 20.
        await using var host = api.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter>(new ClientAddressFilter(AnyClientAddress))));
        var doors = await Doors.SetUpAsync(host, api);
        var before = await DatabaseSnapshot.TakeAsync(api.Database);

        var random = new Random(seed);
        var statuses = new SortedDictionary<int, int>();
        var failures = new List<string>();
        var client = host.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        for (var i = 0; i < count; i++)
        {
            using var request = doors.Next(random);
            var description = $"{request.Method} {request.RequestUri}";
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status >= 500)
            {
                failures.Add($"{status} on {description}: {Truncate(await response.Content.ReadAsStringAsync())}");
            }
            else if (status >= 400 && request.RequestUri!.OriginalString.StartsWith("/v1", StringComparison.Ordinal)
                && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{status} without problem+json on {description}: {response.Content.Headers.ContentType}");
            }
        }

        output.WriteLine($"fuzz: seed {seed}, {count} requests, statuses {string.Join(", ", statuses.Select(s => $"{s.Key}×{s.Value}"))}, " +
            $"5xx {statuses.Where(s => s.Key >= 500).Sum(s => s.Value)}, failures {failures.Count}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.Equal(before, await DatabaseSnapshot.TakeAsync(api.Database));
        Assert.True(statuses.Keys.Count(s => s is >= 400 and < 500) >= 4, "the fuzzer should reach several kinds of refusal");
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] : text;

    /// <summary>A random client address for each request, as many clients on the internet would have.</summary>
    private static IPAddress AnyClientAddress() => new(RandomNumberGenerator.GetBytes(4));

    /// <summary>What the fuzzer knows of the service: its routes (from the OpenAPI document and the callbacks) and a few valid bodies to break.</summary>
    private sealed class Doors
    {
        private const string RdvsSecret = "fuzz-rdvs-secret";

        private readonly List<(string Method, string Template)> routes = [];
        private TenantKeys keys = null!;
        private string appointmentId = "";

        private static readonly Dictionary<string, string> ValidBodies = new(StringComparer.Ordinal)
        {
            ["appointment"] = """{"startsAt":"2030-12-03T09:30:00+01:00","durationMinutes":30,"citizen":{"phone":"06 12 34 56 78","firstName":"Awa","lastName":"Diallo","channel":"sms"},"service":"RSA","location":{"name":"UTS","address":"12 rue Picot","phone":"04 94 00 00 00"},"mode":"in_person"}""",
            ["tenant"] = """{"slug":"fuzz-new","name":"Fuzz","timeZone":"Europe/Paris","reminders":[{"channel":"sms","before":"P2D"}],"quietHours":{"from":"20:00","to":"08:30"},"holdoutPercent":10,"webhook":{"url":"https://agenda.example.org/hooks"}}""",
            ["outcome"] = """{"outcome":"no_show"}""",
            ["rotate"] = """{"rotate":["apiKey","webhookSecret"]}""",
            ["rdvs"] = """{"meta":{"model":"Rdv","event":"created","timestamp":"2026-11-27T10:00:00.000+01:00"},"data":{"id":77,"starts_at":"2030-12-03T09:30:00.000+01:00","duration_in_min":30,"status":"unknown","motif":{"name":"RSA"},"lieu":{"name":"UTS","address":"1 rue"},"participations":[{"status":"unknown","user":{"id":5,"first_name":"Awa","last_name":"Diallo","phone_number_formatted":"+33612345678"}}]}}""",
        };

        public static async Task<Doors> SetUpAsync(WebApplicationFactory<Program> host, ApiFactory api)
        {
            var doors = new Doors();
            var admin = host.CreateClient();
            admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiFactory.AdminKey);
            var created = await admin.PostAsJsonAsync("/v1/admin/tenants", new
            {
                slug = "fuzz", name = "Fuzz", quietHours = (object?)null, rdvSolidarites = new { secret = RdvsSecret },
            });
            doors.keys = (await created.Content.ReadFromJsonAsync<TenantKeys>())!;
            var agenda = host.CreateClient();
            agenda.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", doors.keys.ApiKey);
            doors.appointmentId = "fuzz-1";
            (await agenda.PutAsync("/v1/appointments/fuzz-1", new StringContent(ValidBodies["appointment"], Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

            var document = await host.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
            foreach (var path in document.GetProperty("paths").EnumerateObject())
            {
                foreach (var operation in path.Value.EnumerateObject().Where(o => Methods.Contains(o.Name.ToUpperInvariant())))
                {
                    doors.routes.Add((operation.Name.ToUpperInvariant(), path.Name));
                }
            }

            // The callbacks (not in the document) and the browser doors.
            doors.routes.AddRange([
                ("POST", "/twilio/sms/status"), ("POST", "/twilio/sms/inbound"), ("POST", "/twilio/voice/{id}/{token}"),
                ("POST", "/twilio/voice/{id}/{token}/gather"), ("POST", "/twilio/voice/{id}/{token}/status"),
                ("POST", "/v1/webhooks/rdv-solidarites/{slug}"), ("POST", "/dashboard/login"), ("POST", "/hangfire/login"),
                ("GET", "/dashboard"), ("GET", "/dashboard/export.csv"), ("GET", "/metrics"), ("GET", "/hangfire/login"),
            ]);
            _ = api;
            return doors;
        }

        public HttpRequestMessage Next(Random random)
        {
            var (method, template) = routes[random.Next(routes.Count)];
            if (random.Next(20) == 0)
            {
                method = Methods[random.Next(Methods.Length)];   // a method the route does not take
            }

            var writes = method != "GET";
            var credential = Credential(random);
            var trusted = credential is not null && credential != "garbage";
            // A valid key at a door that writes: only ids that do not exist, and (below) a body that cannot be right.
            var path = FillPath(template, random, knownIds: !(writes && trusted));
            var request = new HttpRequestMessage(new HttpMethod(method), path + Query(random));
            if (credential is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", credential == "garbage" ? GarbageAuthorization(random) : "Bearer " + credential);
            }

            AddHeaders(request, random);
            if (template.StartsWith("/twilio", StringComparison.Ordinal) || template.EndsWith("/login", StringComparison.Ordinal))
            {
                request.Content = Form(random, request, template.StartsWith("/twilio", StringComparison.Ordinal));
            }
            else if (template.StartsWith("/v1/webhooks/rdv-solidarites", StringComparison.Ordinal))
            {
                var body = Broken(ValidBodies["rdvs"], random);
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json");
                // Signed half of the time: then the body itself is what is refused.
                request.Headers.TryAddWithoutValidation("X-Lapin-Signature", random.Next(2) == 0
                    ? Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(RdvsSecret), body))
                    : HeaderText(random, 64));
            }
            else if (writes)
            {
                var kind = template.Contains("outcome", StringComparison.Ordinal) ? "outcome"
                    : template.Contains("keys", StringComparison.Ordinal) ? "rotate"
                    : template.Contains("tenants", StringComparison.Ordinal) ? "tenant" : "appointment";
                request.Content = new ByteArrayContent(Broken(ValidBodies[kind], random));
                request.Content.Headers.TryAddWithoutValidation("Content-Type", random.Next(6) == 0 ? HeaderText(random, 20) : "application/json");
            }

            return request;
        }

        private string? Credential(Random random) => random.Next(7) switch
        {
            0 => null,
            1 => "garbage",
            2 => ApiFactory.AdminKey,
            3 => keys.ManagerKey,
            4 => ApiFactory.MetricsToken,
            _ => keys.ApiKey,
        };

        private static string GarbageAuthorization(Random random) => random.Next(6) switch
        {
            0 => "Bearer",
            1 => "Bearer " + new string('a', random.Next(1, 5000)),
            2 => "Basic " + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)),
            3 => "Bearer rra_fuzz_" + HeaderText(random, 43),
            4 => "Bearer rrm_" + new string('x', 70) + "_" + HeaderText(random, 10),
            _ => "bearer " + HeaderText(random, 30),
        };

        private string FillPath(string template, Random random, bool knownIds)
        {
            var path = new StringBuilder();
            foreach (var segment in template.Split('/'))
            {
                if (segment.Length == 0)
                {
                    continue;
                }

                path.Append('/');
                if (!segment.StartsWith('{'))
                {
                    path.Append(segment);
                    continue;
                }

                var known = segment switch
                {
                    "{slug}" => "fuzz",
                    "{externalId}" => appointmentId,
                    "{id}" => Guid.NewGuid().ToString("N"),
                    _ => null,
                };
                path.Append(knownIds && known is not null && random.Next(2) == 0 ? known : Uri.EscapeDataString(RandomId(random)));
            }

            return path.ToString();
        }

        private static string RandomId(Random random) => random.Next(8) switch
        {
            0 => "nope-" + random.Next(),
            1 => new string('z', random.Next(100, 3000)),
            // No NUL: Kestrel refuses a path with %00 (400) before the app sees it, and the test host throws instead.
            2 => "\u0001\u001f\u007f",
            3 => "../../etc/passwd",
            4 => "é∂ƒ©˙∆˚¬…æ—🙂",
            5 => "' or 1=1 --",
            6 => "%00%ff",
            _ => RandomText(random, random.Next(1, 40)),
        };

        private static string Query(Random random) => random.Next(4) switch
        {
            0 => "",
            1 => "?by=" + Uri.EscapeDataString(RandomId(random)) + "&from=" + Uri.EscapeDataString(RandomText(random, 12)) + "&to=2026-13-45",
            2 => "?" + string.Join("&", Enumerable.Range(0, random.Next(1, 50)).Select(i => $"k{i}={Uri.EscapeDataString(RandomText(random, 8))}")),
            _ => "?returnUrl=" + Uri.EscapeDataString(random.Next(2) == 0 ? "//evil.example" : "/hangfire/../x") + "&month=" + RandomText(random, 7),
        };

        private static void AddHeaders(HttpRequestMessage request, Random random)
        {
            if (random.Next(3) == 0)
            {
                request.Headers.TryAddWithoutValidation("X-Forwarded-For", random.Next(2) == 0 ? "127.0.0.1, 10.0.0.1" : HeaderText(random, 30));
            }

            if (random.Next(3) == 0)
            {
                request.Headers.TryAddWithoutValidation("Accept", random.Next(2) == 0 ? "text/html" : HeaderText(random, 20));
            }

            if (random.Next(4) == 0)
            {
                request.Headers.TryAddWithoutValidation("Sec-Fetch-Site", random.Next(2) == 0 ? "same-origin" : "cross-site");
                request.Headers.TryAddWithoutValidation("Cookie", "rappel_manager=" + HeaderText(random, 40) + "; rappel_operator=" + random.Next() + "." + HeaderText(random, 20));
            }

            if (random.Next(5) == 0)
            {
                request.Headers.TryAddWithoutValidation("X-Twilio-Signature", Convert.ToBase64String(RandomNumberGenerator.GetBytes(20)));
                request.Headers.TryAddWithoutValidation("X-Fuzz-" + random.Next(), new string('h', random.Next(1, 8000)));
            }
        }

        /// <summary>A form, sometimes signed as Twilio signs: then always with a control character or without its SID, so that nothing is stored.</summary>
        private static HttpContent Form(Random random, HttpRequestMessage request, bool twilio)
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = random.Next(0, 8); i > 0; i--)
            {
                fields[random.Next(3) == 0 ? RandomText(random, 6) : new[] { "From", "Body", "MessageSid", "MessageStatus", "ErrorCode", "Digits", "CallStatus", "key", "returnUrl" }[random.Next(9)]] =
                    random.Next(4) == 0 ? new string('9', random.Next(1, 20_000)) : RandomText(random, random.Next(0, 30));
            }

            if (twilio && random.Next(2) == 0)
            {
                fields.Remove("MessageSid");
                fields["Body"] = "STOP\u0001";
                var url = "http://rappel.test" + request.RequestUri!.OriginalString;
                request.Headers.Remove("X-Twilio-Signature");
                request.Headers.TryAddWithoutValidation("X-Twilio-Signature", TwilioSigner.Sign(FakeTwilio.AuthToken, url, fields));
            }

            if (random.Next(10) == 0)
            {
                return new ByteArrayContent(RandomNumberGenerator.GetBytes(random.Next(1, 400_000))) { Headers = { ContentType = new("application/x-www-form-urlencoded") } };
            }

            return new FormUrlEncodedContent(fields);
        }

        /// <summary>The valid body, made surely unacceptable: cut, retyped, poisoned, nested, swollen or replaced by noise.</summary>
        private static byte[] Broken(string valid, Random random)
        {
            switch (random.Next(8))
            {
                case 0:
                    return Encoding.UTF8.GetBytes(valid[..random.Next(0, valid.Length - 1)]);
                case 1:
                    // The first string value becomes a number, an array or an object.
                    var colon = valid.IndexOf(":\"", StringComparison.Ordinal);
                    var end = valid.IndexOf('"', colon + 2);
                    return Encoding.UTF8.GetBytes(valid[..(colon + 1)] + new[] { "12345", "[1,2]", "{\"a\":1}", "true" }[random.Next(4)] + valid[(end + 1)..]);
                case 2:
                    var quote = valid.IndexOf(":\"", StringComparison.Ordinal) + 2;
                    return Encoding.UTF8.GetBytes(valid[..quote] + "\\u000" + random.Next(0, 9) + valid[quote..]);
                case 3:
                    return Encoding.UTF8.GetBytes(new string('[', 200) + new string(']', 200));
                case 4:
                    return Encoding.UTF8.GetBytes("{\"service\":\"" + new string('a', (256 * 1024) + random.Next(1, 300_000)) + "\"}");
                case 5:
                    return [0xff, .. RandomNumberGenerator.GetBytes(random.Next(1, 2000))];
                case 6:
                    return Encoding.UTF8.GetBytes(new[] { "null", "[]", "\"text\"", "42", "{\"a\":" }[random.Next(5)]);
                default:
                    return Encoding.UTF8.GetBytes(valid.Replace("\"", "'", StringComparison.Ordinal));
            }
        }

        /// <summary>Printable ASCII only: what a client can put in a header at all.</summary>
        private static string HeaderText(Random random, int length) => RandomText(random, length).Replace('é', '~');

        private static string RandomText(Random random, int length)
        {
            const string alphabet = "abcXYZ0123456789-_./:%+ &=?#é\"'<>{}[]\\";
            return new string([.. Enumerable.Range(0, length).Select(_ => alphabet[random.Next(alphabet.Length)])]);
        }
    }
}
