using RappelRdv.Api.Voice;

namespace RappelRdv.Api.Twilio;

/// <summary>Twilio's calls into the service, each signed with <c>X-Twilio-Signature</c>.</summary>
internal static class TwilioEndpoints
{
    public static void MapTwilio(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/twilio")
            .WithTags("Twilio callbacks")
            .DisableAntiforgery()
            .AddEndpointFilter<TwilioSignatureFilter>();

        group.MapPost("/sms/status", SmsStatusCallback.Handle);
        group.MapPost("/sms/inbound", SmsInbound.Handle);
        group.MapPost(SmsInbound.AnswerStatusPath["/twilio".Length..], SmsInbound.AnswerSent);
        group.MapVoice();
    }
}
