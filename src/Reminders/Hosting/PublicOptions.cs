using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Reminders.Hosting;

/// <summary>
/// <c>PublicBaseUrl</c> (a top-level key): the address at which Twilio and browsers reach the Api.
/// The Api signs and checks Twilio's callbacks with it; the Worker gives Twilio its callback URLs.
/// </summary>
public sealed class PublicOptions
{
    /// <summary>The contract's default address of the Api, also where it listens unless told otherwise.</summary>
    public const string DefaultBaseUrl = "http://127.0.0.1:5080";

    [Url(ErrorMessage = "PublicBaseUrl must be an absolute http(s) URL, such as https://rappel.example.org")]
    public string PublicBaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>
    /// The same, as a URI, once <see cref="PublicBaseUrl"/> has been validated. A method, not a property:
    /// the validation reads every property, and this one would throw before it could name the key.
    /// </summary>
    public Uri BaseUri() => new(PublicBaseUrl);
}
