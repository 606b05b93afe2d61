using System.Net.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;
using Polly.CircuitBreaker;
using Polly.Registry;
using Polly.RateLimiting;
using Polly.Retry;
using RappelRdv.Reminders.Phones;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Http;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace RappelRdv.Reminders.Twilio;

/// <summary>
/// Twilio's REST API through twilio-csharp, behind resilience pipelines per Worker process (one for
/// the sends, one for the look-ups of recovery): a retry only where the request was surely not acted
/// on (429 / 20429, connection refused), a circuit breaker on answers that leave the outcome unknown
/// (5xx, timeouts), and one rate limiter for both at <c>Twilio__MaxRequestsPerSecond</c>, the account's
/// rate shared by every Worker (<see cref="AccountRateLimiter"/>).
/// </summary>
public sealed class TwilioProvider : IMessageProvider
{
    private readonly TwilioOptions options;
    private readonly IHttpClientFactory httpClients;
    private readonly ILogger<TwilioProvider> logger;
    private readonly TwilioAccountRates rates;
    private readonly ResiliencePipeline<ProviderResult> sends;
    private readonly ResiliencePipeline<ProviderResult> lookUps;

    /// <summary>The pipeline of the sends in the resilience registry (Polly's telemetry names it so).</summary>
    public const string SendPipeline = "twilio-send";

    /// <summary>The pipeline of recovery's look-ups, with a circuit breaker of its own.</summary>
    public const string LookUpPipeline = "twilio-lookup";

    public TwilioProvider(
        IOptions<TwilioOptions> options, IHttpClientFactory httpClients, TwilioAccountRates rates,
        ResiliencePipelineProvider<string> pipelines, ILogger<TwilioProvider> logger)
    {
        this.options = options.Value;
        this.httpClients = httpClients;
        this.logger = logger;
        this.rates = rates;

        // Sends and look-ups share the account's request rate: a look-up is a request to the same
        // Twilio, and during an incident it must not hammer it. Each has its own breaker: Messages-list
        // calls failing (a common Twilio incident of its own) must not open the circuit of the sends,
        // and the reverse. Both come from the registry (WorkerSetup), which gives them telemetry.
        sends = pipelines.GetPipeline<ProviderResult>(SendPipeline);
        lookUps = pipelines.GetPipeline<ProviderResult>(LookUpPipeline);
    }

    /// <summary>
    /// One of the two pipelines, as registered by the host with <c>AddResiliencePipeline</c>: a retry
    /// only of what Twilio surely did not act on, a circuit breaker on unknown outcomes, the account's
    /// request rate; the clock is the host's <see cref="TimeProvider"/> (a fake one in tests).
    /// </summary>
    public static void ConfigurePipeline(ResiliencePipelineBuilder<ProviderResult> builder, IServiceProvider services, string name)
    {
        var options = services.GetRequiredService<IOptions<TwilioOptions>>().Value;
        var logger = services.GetRequiredService<ILogger<TwilioProvider>>();
        var requests = services.GetRequiredService<TwilioAccountRates>().Requests;
        builder.TimeProvider = services.GetRequiredService<TimeProvider>();
        builder
            .AddRetry(new RetryStrategyOptions<ProviderResult>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Outcome: ProviderOutcome.NotSent, ErrorCode: not BrokenCircuit }),
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<ProviderResult>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result?.Outcome == ProviderOutcome.Unknown),
                FailureRatio = 0.5,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = options.BreakDuration,
                // While open, every request of its kind waits: an operator must see it.
                OnOpened = args =>
                {
                    logger.LogWarning("Twilio circuit of the {Requests} opened for {BreakDuration}: half of them ended without a known outcome", name, args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    logger.LogWarning("Twilio circuit of the {Requests} closed again", name);
                    return ValueTask.CompletedTask;
                },
            })
            .AddRateLimiter(new RateLimiterStrategyOptions { RateLimiter = args => requests.AcquireAsync(1, args.Context.CancellationToken) });
    }

    /// <summary>The error code we give a send refused because the circuit is open.</summary>
    public const int BrokenCircuit = -1;

    public Task<ProviderResult> SendSmsAsync(string to, string body, Uri statusCallback, Func<Task> starting, CancellationToken cancellationToken) =>
        ExecuteAsync(sends, starting, async client =>
        {
            var create = new CreateMessageOptions(new PhoneNumber(to))
            {
                Body = body,
                StatusCallback = statusCallback,
                // Past this, Twilio drops a message it still holds queued: recovery relies on it to tell
                // "Twilio may still send it" from "Twilio never had it" (Dispatcher.UnlistedGrace).
                ValidityPeriod = (int)options.ValidityPeriod.TotalSeconds,
            };
            if (!string.IsNullOrEmpty(options.MessagingServiceSid))
            {
                create.MessagingServiceSid = options.MessagingServiceSid;
            }
            else
            {
                create.From = new PhoneNumber(options.FromNumber);
            }

            var message = await MessageResource.CreateAsync(create, client);
            return ProviderResult.Accepted(message.Sid);
        }, cancellationToken);

    public async Task<ProviderResult> StartCallAsync(string to, Uri twimlUrl, Uri statusCallback, Func<Task> starting, CancellationToken cancellationToken)
    {
        // Calls have their own rate (Twilio__MaxCallsPerSecond), waited for before the request's: a
        // stopping Worker gives this wait up (the caller's token) and the call goes back to pending.
        using var permit = await rates.Calls.AcquireAsync(1, cancellationToken);
        if (!permit.IsAcquired)
        {
            return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: BrokenCircuit, Error: "call rate limiter stopped");
        }

        return await ExecuteAsync(sends, starting, async client =>
        {
            var call = await CallResource.CreateAsync(
                new CreateCallOptions(new PhoneNumber(to), new PhoneNumber(string.IsNullOrEmpty(options.VoiceFromNumber) ? options.FromNumber : options.VoiceFromNumber))
                {
                    Url = twimlUrl,
                    StatusCallback = statusCallback,
                    StatusCallbackEvent = ["initiated", "ringing", "answered", "completed"],
                    MachineDetection = "DetectMessageEnd",
                    Timeout = 30,
                },
                client);
            return ProviderResult.Accepted(call.Sid);
        }, CancellationToken.None);
    }

    /// <summary>
    /// Lists by number only: no <c>DateSent</c> filter, since Twilio fills <c>date_sent</c> only once a
    /// message leaves, and one it still holds queued must be found too. The candidates are those
    /// Twilio created while this send could have been at Twilio (<see cref="SendWindow"/>) with the
    /// committed text; when none has it but some have an empty body (Message Body Redaction), those.
    /// The caller keeps only the SIDs no message holds, and trusts a single one.
    /// </summary>
    public Task<Lookup> FindSmsAsync(string to, string body, DateTimeOffset startedAt, CancellationToken cancellationToken) =>
        LookUpAsync(async client =>
        {
            var (from, until) = SendWindow(startedAt);
            var messages = (await MessageResource.ReadAsync(new ReadMessageOptions { To = new PhoneNumber(to), PageSize = 50, Limit = 50 }, client))
                .Where(m => m.DateCreated is { } created && created >= from && created <= until)
                .ToList();
            var exact = messages.Where(m => m.Body == body).ToList();
            return [.. (exact.Count > 0 ? exact : messages.Where(m => string.IsNullOrEmpty(m.Body))).Select(m => m.Sid)];
        }, cancellationToken);

    /// <summary>Lists the calls to the number; the candidates are those created while this send could have been at Twilio.</summary>
    public Task<Lookup> FindCallAsync(string to, DateTimeOffset startedAt, CancellationToken cancellationToken) =>
        LookUpAsync(async client =>
        {
            var (from, until) = SendWindow(startedAt);
            var calls = await CallResource.ReadAsync(new ReadCallOptions { To = new PhoneNumber(to), PageSize = 20, Limit = 20 }, client);
            return [.. calls.Where(c => c.DateCreated is { } created && created >= from && created <= until).Select(c => c.Sid)];
        }, cancellationToken);

    /// <summary>
    /// How far Twilio's clock (its <c>date_created</c>, to the second) may be from ours: a candidate
    /// created up to this long before the send started is still ours (docs/ARCHITECTURE.md).
    /// </summary>
    public static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(1);

    /// <summary>
    /// When Twilio can have created what one send asked for: from its recorded start, less the skew,
    /// to the end of its last possible attempt (the first and three retries, each within the request
    /// timeout, with their pauses), plus the skew and as much again for a retry's wait in the rate
    /// limiter's queue. Anything else to that number is another send's.
    /// </summary>
    internal (DateTime From, DateTime Until) SendWindow(DateTimeOffset startedAt)
    {
        var attempts = 4 * options.RequestTimeout + 8 * options.RetryDelay;
        return (startedAt.UtcDateTime - ClockSkew, startedAt.UtcDateTime + attempts + 2 * ClockSkew);
    }

    private async Task<Lookup> LookUpAsync(Func<ITwilioRestClient, Task<IReadOnlyList<string>>> read, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> candidates = [];
        // "Not found" travels as a Rejected result, which neither the retry nor the breaker counts.
        var result = await ExecuteAsync(lookUps, () => Task.CompletedTask, async client =>
        {
            candidates = await read(client);
            return candidates.Count > 0 ? ProviderResult.Accepted(candidates[0]) : new ProviderResult(ProviderOutcome.Rejected, Error: NotListed);
        }, cancellationToken);
        return result switch
        {
            { Outcome: ProviderOutcome.Accepted, Sid: { } sid } => new Lookup(LookupOutcome.Found, sid, Candidates: candidates),
            { Outcome: ProviderOutcome.Rejected, Error: NotListed } => new Lookup(LookupOutcome.NotFound),
            _ => new Lookup(LookupOutcome.Failed, Error: result.Error),
        };
    }

    private const string NotListed = "not listed";

    private async Task<ProviderResult> ExecuteAsync(
        ResiliencePipeline<ProviderResult> pipeline, Func<Task> starting, Func<ITwilioRestClient, Task<ProviderResult>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.ExecuteAsync(async token =>
            {
                await starting();
                try
                {
                    return await call(CreateClient());
                }
                catch (ApiException e) when (e.Status == 429 || e.Code == 20429)
                {
                    return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: e.Code, Error: "rate limited by Twilio");
                }
                catch (ApiException e) when (e.Status >= 500)
                {
                    return new ProviderResult(ProviderOutcome.Unknown, ErrorCode: e.Code, Error: $"Twilio answered {e.Status}");
                }
                catch (ApiException e)
                {
                    return new ProviderResult(ProviderOutcome.Rejected, ErrorCode: e.Code, Error: e.Message);
                }
                catch (ApiConnectionException e) when (IsConnectionRefused(e))
                {
                    return new ProviderResult(ProviderOutcome.NotSent, Error: "connection refused");
                }
                catch (ApiConnectionException e)
                {
                    logger.LogWarning("Twilio call ended without an answer: {Reason}", e.InnerException?.GetType().Name ?? e.GetType().Name);
                    return new ProviderResult(ProviderOutcome.Unknown, Error: "no answer from Twilio");
                }
            }, cancellationToken);
        }
        catch (BrokenCircuitException)
        {
            return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: BrokenCircuit, Error: "circuit open: Twilio is failing");
        }
        catch (RateLimiterRejectedException)
        {
            return new ProviderResult(ProviderOutcome.NotSent, ErrorCode: BrokenCircuit, Error: "rate limiter queue full");
        }
    }

    private static bool IsConnectionRefused(Exception e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError })
            {
                return true;
            }

            if (inner is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
            {
                return true;
            }
        }

        return false;
    }

    private TwilioRestClient CreateClient() =>
        new(options.AccountSid, options.AuthToken, httpClient: new SystemNetHttpClient(httpClients.CreateClient(HttpClientName)));

    public const string HttpClientName = "twilio";
}

/// <summary>
/// The account's rates, shared with every Worker on the database (contract §9.8): every REST call
/// takes a request token; a call also takes a call token first (Twilio counts calls per second apart).
/// A singleton of its own so that the registered pipelines and <see cref="TwilioProvider"/> share them.
/// </summary>
public sealed class TwilioAccountRates(IOptions<TwilioOptions> options, NpgsqlDataSource db, ILogger<TwilioProvider> logger) : IDisposable
{
    internal AccountRateLimiter Requests { get; } = new(db, "requests", options.Value.MaxRequestsPerSecond, logger);

    internal AccountRateLimiter Calls { get; } = new(db, "calls", options.Value.MaxCallsPerSecond, logger);

    public void Dispose()
    {
        Requests.Dispose();
        Calls.Dispose();
    }
}

/// <summary>No Twilio account: nothing leaves the machine; each send is logged with the phone masked.</summary>
public sealed class SimulatedProvider(ILogger<SimulatedProvider> logger) : IMessageProvider
{
    public async Task<ProviderResult> SendSmsAsync(string to, string body, Uri statusCallback, Func<Task> starting, CancellationToken cancellationToken)
    {
        await starting();
        logger.LogInformation("Simulated SMS to {Phone} ({Length} characters)", FrenchPhone.Mask(to), body.Length);
        return ProviderResult.Accepted("SMsim" + Guid.NewGuid().ToString("N")[..29]);
    }

    public async Task<ProviderResult> StartCallAsync(string to, Uri twimlUrl, Uri statusCallback, Func<Task> starting, CancellationToken cancellationToken)
    {
        await starting();
        logger.LogInformation("Simulated call to {Phone}", FrenchPhone.Mask(to));
        return ProviderResult.Accepted("CAsim" + Guid.NewGuid().ToString("N")[..29]);
    }

    // Nothing is ever lost in simulation: a send always answers.
    public Task<Lookup> FindSmsAsync(string to, string body, DateTimeOffset startedAt, CancellationToken cancellationToken) =>
        Task.FromResult(new Lookup(LookupOutcome.NotFound));

    public Task<Lookup> FindCallAsync(string to, DateTimeOffset startedAt, CancellationToken cancellationToken) =>
        Task.FromResult(new Lookup(LookupOutcome.NotFound));
}
