namespace RappelRdv.Reminders.Appointments;

/// <summary>The words of the contract, in one place.</summary>
public static class AppointmentStatus
{
    public const string Scheduled = "scheduled";
    public const string Confirmed = "confirmed";
    public const string CancelledByCitizen = "cancelled_by_citizen";
    public const string CancelledByService = "cancelled_by_service";
    public const string RescheduleRequested = "reschedule_requested";

    public static bool IsCancelled(string status) => status is CancelledByCitizen or CancelledByService;
}

public static class Outcomes
{
    public const string Honoured = "honoured";
    public const string NoShow = "no_show";
    public const string Excused = "excused";

    public static readonly string[] All = [Honoured, NoShow, Excused];
}

public static class Channels
{
    public const string Sms = "sms";
    public const string Voice = "voice";
    public const string None = "none";

    public static readonly string[] Citizen = [Sms, Voice, None];
    public static readonly string[] Reminder = [Sms, Voice];
}

/// <summary>What an appointment was drawn at its creation by the tenant's riskReminders rule (CONTRACT §11).</summary>
public static class Risks
{
    public const string Targeted = "targeted";
    public const string HeldOut = "held_out";
    public const string None = "none";
}

public static class Modes
{
    public const string InPerson = "in_person";
    public const string Phone = "phone";
    public const string Home = "home";

    public static readonly string[] All = [InPerson, Phone, Home];
}

public static class MessageKinds
{
    public const string Reminder = "reminder";
    public const string Confirmation = "confirmation";
    public const string Change = "change";
    public const string Cancellation = "cancellation";
    public const string Reply = "reply";
}

public static class MessageStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Skipped = "skipped";
}
