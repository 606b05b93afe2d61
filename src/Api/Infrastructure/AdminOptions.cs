using System.ComponentModel.DataAnnotations;

namespace RappelRdv.Api.Infrastructure;

internal sealed class AdminOptions
{
    public const string Section = "Admin";

    [Required(ErrorMessage = "Admin__ApiKey is not set: give the operator's key (./run.sh generates one).")]
    [MinLength(16, ErrorMessage = "Admin__ApiKey must be at least 16 characters long.")]
    public string ApiKey { get; set; } = "";
}
