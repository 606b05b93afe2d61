using RappelRdv.Reminders.Appointments;
using RappelRdv.Reminders.Replies;
using RappelRdv.Reminders.Texts;
using RappelRdv.Reminders.Twilio;
using Twilio.TwiML;
using Twilio.TwiML.Voice;
using GatherVerb = Twilio.TwiML.Voice.Gather;
using HttpMethod = Twilio.Http.HttpMethod;
using Language = RappelRdv.Reminders.Texts.Language;

namespace RappelRdv.Api.Voice;

/// <summary>
/// The call of one message: <c>/twilio/voice/{messageId}/{token}</c> speaks it in the citizen's language and
/// gathers a key; <c>…/gather</c> applies the key through the same code path as an SMS reply;
/// <c>…/status</c> records how the call ended and plans the next try. The token ties the URL to
/// the message, so nobody can fetch another citizen's call from an id. What each changes is
/// <see cref="CitizenAnswers"/>'s; here only Twilio's forms and TwiML.
/// </summary>
internal static class VoiceEndpoints
{
    public static void MapVoice(this RouteGroupBuilder twilio)
    {
        var voice = twilio.MapGroup("/voice/{messageId:guid}/{token}");
        voice.MapPost("/", Script);
        voice.MapPost("/gather", KeyPressed);
        voice.MapPost("/status", Status);
    }

    private static async Task<IResult> Script(
        Guid messageId, string token, HttpRequest request, CallbackUrls urls, CitizenAnswers answers, CancellationToken cancellationToken)
    {
        var call = await CallAsync(messageId, token, urls, answers, cancellationToken);
        if (call is null)
        {
            return UnknownCall();
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var answeredBy = form["AnsweredBy"].ToString();
        if (answeredBy.StartsWith("machine", StringComparison.Ordinal) || answeredBy == "fax")
        {
            // A voicemail: a short message that names no one and asks to call the place.
            return Twiml(new VoiceResponse().Say(VoiceTexts.AnsweringMachine(call.Context), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup());
        }

        var repeat = request.Query.ContainsKey("again");
        var response = new VoiceResponse();
        if (!repeat)
        {
            response.Say(VoiceTexts.Greeting(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        }

        response.Say(VoiceTexts.Announcement(call.Kind, call.Context), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        if (call.Kind == MessageKinds.Cancellation)
        {
            return Twiml(response.Say(VoiceTexts.Goodbye(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup());
        }

        var gather = new GatherVerb(numDigits: 1, action: new Uri(urls.VoiceScript(messageId) + "/gather"), method: HttpMethod.Post, timeout: 8,
            language: call.Voice.GatherLanguage, actionOnEmptyResult: false);
        gather.Say(VoiceTexts.Menu(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        response.Append(gather);
        // No key: say it all once more, then goodbye.
        if (!repeat)
        {
            response.Redirect(new Uri(urls.VoiceScript(messageId) + "?again=1"), HttpMethod.Post);
        }
        else
        {
            response.Say(VoiceTexts.Goodbye(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup();
        }

        return Twiml(response);
    }

    private static async Task<IResult> KeyPressed(
        Guid messageId, string token, HttpRequest request, CallbackUrls urls, CitizenAnswers answers, CancellationToken cancellationToken)
    {
        var call = await CallAsync(messageId, token, urls, answers, cancellationToken);
        if (call is null)
        {
            return UnknownCall();
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var digits = form["Digits"].ToString();
        ReplyIntent? intent = digits switch
        {
            "1" => ReplyIntent.Confirm,
            "2" => ReplyIntent.Cancel,
            "3" => ReplyIntent.Reschedule,
            _ => null,
        };
        if (intent is null)
        {
            var again = new VoiceResponse();
            if (digits != "9")
            {
                again.Say(VoiceTexts.NotUnderstood(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
            }

            return Twiml(again.Redirect(new Uri(urls.VoiceScript(messageId) + "?again=1"), HttpMethod.Post));
        }

        var result = await answers.KeyPressedAsync(messageId, intent.Value, digits, form["CallSid"].ToString(), cancellationToken);
        var response = new VoiceResponse();
        if (result.Effect is ReplyEffect.Confirmed or ReplyEffect.Cancelled or ReplyEffect.RescheduleRequested)
        {
            response.Say(VoiceTexts.Acknowledgment(intent.Value, call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage);
        }

        return Twiml(response.Say(VoiceTexts.Goodbye(call.Language), call.Voice.SayVoice, language: call.Voice.SayLanguage).Hangup());
    }

    private static async Task<IResult> Status(
        Guid messageId, string token, HttpRequest request, CallbackUrls urls, CitizenAnswers answers, CancellationToken cancellationToken)
    {
        if (!urls.IsValidToken(messageId, token))
        {
            return TypedResults.Ok();
        }

        var form = await request.ReadFormAsync(cancellationToken);
        var status = form["CallStatus"].ToString();
        if (status is not ("completed" or "busy" or "no-answer" or "failed" or "canceled"))
        {
            return TypedResults.Ok();
        }

        await answers.CallEndedAsync(messageId, status, form["CallSid"].ToString(),
            int.TryParse(form["CallDuration"], out var seconds) ? seconds : null, cancellationToken);
        return TypedResults.Ok();
    }

    private static async Task<CallScript?> CallAsync(
        Guid messageId, string token, CallbackUrls urls, CitizenAnswers answers, CancellationToken cancellationToken) =>
        urls.IsValidToken(messageId, token) ? await answers.CallScriptAsync(messageId, cancellationToken) : null;

    // A call whose appointment is gone is answered in French, the tenant's language of record.
    private static readonly Language French = Languages.Fr;

    private static IResult UnknownCall() =>
        Twiml(new VoiceResponse().Say(VoiceTexts.UnknownCall(), French.SayVoice, language: French.SayLanguage).Hangup());

    private static IResult Twiml(VoiceResponse response) => TypedResults.Text(response.ToString(), "text/xml; charset=utf-8");
}
