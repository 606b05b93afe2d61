namespace RappelRdv.Reminders.Texts;

/// <summary>
/// Everything a citizen reads or hears, in one language. SMS texts are templates with the
/// placeholders a département may use ({service}, {day}, {time}, {place}) and a few the built-in
/// texts alone use ({subject}, {callback}, {phone}, {call}, {name}). Each kind has a fuller and a
/// shorter wording: the shorter is used when it is what lets the SMS fit one segment.
/// </summary>
/// <remarks>
/// Written to be polite and plain (formal address in every language: vous, usted, siz…), short
/// enough for one GSM-7 segment in Latin-script languages once the place is abbreviated, and
/// within three UCS-2 segments in Arabic. Reply words in the texts are the ones ReplyParser reads.
/// </remarks>
internal sealed record LanguageTexts
{
    public required Language Language { get; init; }

    /// <summary>Per kind (reminder, confirmation, change, cancellation): the fuller wording first.</summary>
    public required IReadOnlyDictionary<string, string[]> Sms { get; init; }

    /// <summary>{callback} of a cancellation, with {phone} and without.</summary>
    public required string CallBack { get; init; }

    public required string ContactService { get; init; }

    /// <summary>{place} of an appointment by phone and at home.</summary>
    public required string PhonePlace { get; init; }

    public required string HomePlace { get; init; }

    /// <summary>"rendez-vous RSA", "RSA appointment": what acknowledgments and calls name.</summary>
    public required Func<string, string?, string> Subject { get; init; }

    // Acknowledgments of a reply, each with {subject}, {day}, {time}: one segment.
    public required string Confirmed { get; init; }

    public required string Cancelled { get; init; }

    public required string RescheduleRequested { get; init; }

    /// <summary>With {phone}, then without.</summary>
    public required string[] TooLate { get; init; }

    public required string OptedOut { get; init; }

    public required string OptedIn { get; init; }

    public required string Help { get; init; }

    // The call.
    public required string Greeting { get; init; }

    /// <summary>Per kind; {place} is <see cref="VoiceAddress"/> or the home, {callback} for a cancellation.</summary>
    public required IReadOnlyDictionary<string, string> Announcement { get; init; }

    /// <summary>", à l'adresse suivante : {name}": how a call introduces the place.</summary>
    public required string VoiceAddress { get; init; }

    public required string VoiceHome { get; init; }

    public required string VoiceCallBack { get; init; }

    public required string VoiceContactService { get; init; }

    public required string Menu { get; init; }

    public required string KeyConfirmed { get; init; }

    public required string KeyCancelled { get; init; }

    public required string KeyRescheduled { get; init; }

    public required string Goodbye { get; init; }

    /// <summary>With {day}, {time}, {name} (", UTS Toulon" or nothing) and {call}.</summary>
    public required string AnsweringMachine { get; init; }

    public required string AnsweringMachineCall { get; init; }

    public required string AnsweringMachineNoPhone { get; init; }

    public required string NotUnderstood { get; init; }

    public required string UnknownCall { get; init; }
}

internal static class BuiltInTexts
{
    public static readonly LanguageTexts French = new()
    {
        Language = Languages.Fr,
        Sms = new Dictionary<string, string[]>
        {
            ["reminder"] =
            [
                "Rappel RDV {service} : {day} à {time}, {place}. Répondez OUI (1) pour confirmer, NON (2) pour annuler, 3 pour reporter.",
                "RDV {service} {day} à {time}, {place}. OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.",
            ],
            ["confirmation"] =
            [
                "Votre RDV {service} est fixé au {day} à {time}, {place}. Répondez OUI (1) pour confirmer, NON (2) pour annuler, 3 pour reporter.",
                "Nouveau RDV {service} {day} à {time}, {place}. OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.",
            ],
            ["change"] =
            [
                "Nouvelle date pour votre RDV {service} : {day} à {time}, {place}. Répondez OUI (1) pour confirmer, NON (2) pour annuler, 3 pour reporter.",
                "RDV {service} déplacé au {day} à {time}, {place}. OUI/1 pour confirmer, NON/2 pour annuler, 3 pour reporter.",
            ],
            ["cancellation"] =
            [
                "Votre RDV {service} du {day} à {time}, {place}, est annulé par le service.{callback}",
                "RDV {service} du {day} à {time}, {place}, annulé.{callback}",
            ],
        },
        CallBack = " Pour un autre rendez-vous, appelez le {phone}.",
        ContactService = " Pour un autre rendez-vous, contactez le service.",
        PhonePlace = "rendez-vous téléphonique",
        HomePlace = "à votre domicile",
        Subject = (mode, service) => Join(mode == "phone" ? "rendez-vous téléphonique" : "rendez-vous", service),
        Confirmed = "Merci, votre {subject} du {day} à {time} est confirmé.",
        Cancelled = "Votre {subject} du {day} à {time} est annulé. Merci de nous avoir prévenus.",
        RescheduleRequested = "C'est noté pour votre {subject} du {day} à {time} : le service va vous recontacter pour une nouvelle date.",
        TooLate =
        [
            "Il est trop tard pour modifier par SMS votre rendez-vous du {day} à {time}. Merci d'appeler le service au {phone}.",
            "Il est trop tard pour modifier par SMS votre rendez-vous du {day} à {time}. Merci d'appeler le service.",
        ],
        OptedOut = "C'est noté, vous ne recevrez plus de messages de notre part. Envoyez START pour les recevoir à nouveau.",
        OptedIn = "C'est noté, vous recevrez à nouveau les rappels de vos rendez-vous. Envoyez STOP pour ne plus les recevoir.",
        Help = "Répondez OUI ou 1 pour confirmer votre rendez-vous, NON ou 2 pour l'annuler, 3 pour changer de date, STOP pour ne plus recevoir de SMS.",
        Greeting = "Bonjour. Ceci est un message automatique au sujet d'un rendez-vous.",
        Announcement = new Dictionary<string, string>
        {
            ["reminder"] = "Nous vous rappelons votre {subject}, le {day} à {time}{place}.",
            ["confirmation"] = "Un {subject} a été fixé pour vous le {day} à {time}{place}.",
            ["change"] = "Votre {subject} a changé de date. Il aura lieu le {day} à {time}{place}.",
            ["cancellation"] = "Votre {subject} du {day} à {time} a été annulé par le service. {callback}",
        },
        VoiceAddress = ", à l'adresse suivante : {name}",
        VoiceHome = ", à votre domicile",
        VoiceCallBack = "Pour un autre rendez-vous, appelez le {phone}.",
        VoiceContactService = "Pour un autre rendez-vous, contactez le service.",
        Menu = "Pour confirmer, tapez 1. Pour annuler, tapez 2. Pour demander une autre date, tapez 3. Pour réécouter, tapez 9.",
        KeyConfirmed = "Merci, votre rendez-vous est confirmé.",
        KeyCancelled = "Votre rendez-vous est annulé. Merci de nous avoir prévenus.",
        KeyRescheduled = "C'est noté. Le service va vous recontacter pour une nouvelle date.",
        Goodbye = "Au revoir, et bonne journée.",
        AnsweringMachine = "Bonjour. Ceci est un message automatique au sujet d'un rendez-vous le {day} à {time}{name}. {call} Au revoir.",
        AnsweringMachineCall = "Pour le confirmer ou l'annuler, merci d'appeler le {phone}. Je répète : {phone}.",
        AnsweringMachineNoPhone = "Pour le confirmer ou l'annuler, merci d'appeler le service qui vous l'a donné.",
        NotUnderstood = "Je n'ai pas compris votre choix.",
        UnknownCall = "Bonjour. Nous n'avons plus de message à vous transmettre. Au revoir.",
    };

    public static readonly LanguageTexts English = new()
    {
        Language = Languages.En,
        Sms = new Dictionary<string, string[]>
        {
            ["reminder"] =
            [
                "Reminder: {service} appointment on {day} at {time}, {place}. Reply YES (1) to confirm, NO (2) to cancel, CHANGE (3) for a new date.",
                "{service} appointment {day} at {time}, {place}. YES/1 to confirm, NO/2 to cancel, 3 for a new date.",
            ],
            ["confirmation"] =
            [
                "New {service} appointment on {day} at {time}, {place}. Reply YES (1) to confirm, NO (2) to cancel, CHANGE (3) for a new date.",
                "New appointment {service} {day} at {time}, {place}. YES/1 to confirm, NO/2 to cancel, 3 for a new date.",
            ],
            ["change"] =
            [
                "Your {service} appointment has moved to {day} at {time}, {place}. Reply YES (1) to confirm, NO (2) to cancel, CHANGE (3) for a new date.",
                "Appointment {service} moved to {day} at {time}, {place}. YES/1 to confirm, NO/2 to cancel, 3 for a new date.",
            ],
            ["cancellation"] =
            [
                "Your {service} appointment on {day} at {time}, {place}, has been cancelled by the service.{callback}",
                "Appointment {service} on {day} at {time}, {place}, cancelled.{callback}",
            ],
        },
        CallBack = " To book another, please call {phone}.",
        ContactService = " To book another, please contact the service.",
        PhonePlace = "by phone",
        HomePlace = "at your home",
        Subject = (mode, service) => Join(service, mode == "phone" ? "phone appointment" : "appointment"),
        Confirmed = "Thank you, your {subject} on {day} at {time} is confirmed.",
        Cancelled = "Your {subject} on {day} at {time} is cancelled. Thank you for letting us know.",
        RescheduleRequested = "Noted for your {subject} on {day} at {time}: the service will contact you with a new date.",
        TooLate =
        [
            "It is too late to change your appointment on {day} at {time} by SMS. Please call the service on {phone}.",
            "It is too late to change your appointment on {day} at {time} by SMS. Please call the service.",
        ],
        OptedOut = "Noted, you will no longer receive messages from us. Send START to receive them again.",
        OptedIn = "Noted, you will receive your appointment reminders again. Send STOP to stop them.",
        Help = "Reply YES or 1 to confirm your appointment, NO or 2 to cancel it, CHANGE or 3 for a new date, STOP to receive no more messages.",
        Greeting = "Hello. This is an automated message about an appointment.",
        Announcement = new Dictionary<string, string>
        {
            ["reminder"] = "This is a reminder of your {subject}, on {day} at {time}{place}.",
            ["confirmation"] = "Your {subject} is booked for {day} at {time}{place}.",
            ["change"] = "Your {subject} has a new date. It will take place on {day} at {time}{place}.",
            ["cancellation"] = "Your {subject} on {day} at {time} has been cancelled by the service. {callback}",
        },
        VoiceAddress = ", at the following address: {name}",
        VoiceHome = ", at your home",
        VoiceCallBack = "To book another, please call {phone}.",
        VoiceContactService = "To book another, please contact the service.",
        Menu = "To confirm, press 1. To cancel, press 2. To ask for another date, press 3. To hear this again, press 9.",
        KeyConfirmed = "Thank you, your appointment is confirmed.",
        KeyCancelled = "Your appointment is cancelled. Thank you for letting us know.",
        KeyRescheduled = "Noted. The service will contact you with a new date.",
        Goodbye = "Goodbye, and have a good day.",
        AnsweringMachine = "Hello. This is an automated message about an appointment on {day} at {time}{name}. {call} Goodbye.",
        AnsweringMachineCall = "To confirm or cancel it, please call {phone}. I repeat: {phone}.",
        AnsweringMachineNoPhone = "To confirm or cancel it, please call the service that gave it to you.",
        NotUnderstood = "Sorry, I did not understand your choice.",
        UnknownCall = "Hello. We have no message for you any more. Goodbye.",
    };

    public static readonly LanguageTexts Spanish = new()
    {
        Language = Languages.Es,
        Sms = new Dictionary<string, string[]>
        {
            ["reminder"] =
            [
                "Recordatorio: cita {service} el {day} a las {time}, {place}. Responda SI (1) para confirmar, NO (2) para anular, CAMBIAR (3) para otra fecha.",
                "Cita {service} el {day} a las {time}, {place}. SI/1 para confirmar, NO/2 para anular, 3 para otra fecha.",
            ],
            ["confirmation"] =
            [
                "Nueva cita {service} el {day} a las {time}, {place}. Responda SI (1) para confirmar, NO (2) para anular, CAMBIAR (3) para otra fecha.",
                "Nueva cita {service} {day} a las {time}, {place}. SI/1 para confirmar, NO/2 para anular, 3 para otra fecha.",
            ],
            ["change"] =
            [
                "Su cita {service} cambia al {day} a las {time}, {place}. Responda SI (1) para confirmar, NO (2) para anular, CAMBIAR (3) para otra fecha.",
                "Cita {service} cambiada al {day} a las {time}, {place}. SI/1 para confirmar, NO/2 para anular, 3 para otra fecha.",
            ],
            ["cancellation"] =
            [
                "Su cita {service} del {day} a las {time}, {place}, ha sido anulada por el servicio.{callback}",
                "Cita {service} del {day} a las {time}, {place}, anulada.{callback}",
            ],
        },
        CallBack = " Para otra cita, llame al {phone}.",
        ContactService = " Para otra cita, contacte con el servicio.",
        PhonePlace = "cita telefónica",
        HomePlace = "en su domicilio",
        Subject = (mode, service) => Join(mode == "phone" ? "cita telefónica" : "cita", service),
        Confirmed = "Gracias, su {subject} del {day} a las {time} está confirmada.",
        Cancelled = "Su {subject} del {day} a las {time} está anulada. Gracias por avisarnos.",
        RescheduleRequested = "Anotado para su {subject} del {day} a las {time}: el servicio le contactará para darle otra fecha.",
        TooLate =
        [
            "Es demasiado tarde para cambiar por SMS su cita del {day} a las {time}. Llame al servicio al {phone}.",
            "Es demasiado tarde para cambiar por SMS su cita del {day} a las {time}. Llame al servicio.",
        ],
        OptedOut = "Anotado, ya no recibirá mensajes nuestros. Envíe START para recibirlos de nuevo.",
        OptedIn = "Anotado, volverá a recibir los recordatorios de sus citas. Envíe STOP para no recibirlos.",
        Help = "Responda SI o 1 para confirmar su cita, NO o 2 para anularla, CAMBIAR o 3 para otra fecha, STOP para no recibir más mensajes.",
        Greeting = "Buenos días. Este es un mensaje automático sobre una cita.",
        Announcement = new Dictionary<string, string>
        {
            ["reminder"] = "Le recordamos su {subject}, el {day} a las {time}{place}.",
            ["confirmation"] = "Tiene una {subject} el {day} a las {time}{place}.",
            ["change"] = "Su {subject} ha cambiado de fecha. Será el {day} a las {time}{place}.",
            ["cancellation"] = "Su {subject} del {day} a las {time} ha sido anulada por el servicio. {callback}",
        },
        VoiceAddress = ", en la siguiente dirección: {name}",
        VoiceHome = ", en su domicilio",
        VoiceCallBack = "Para otra cita, llame al {phone}.",
        VoiceContactService = "Para otra cita, contacte con el servicio.",
        Menu = "Para confirmar, pulse 1. Para anular, pulse 2. Para pedir otra fecha, pulse 3. Para volver a escuchar, pulse 9.",
        KeyConfirmed = "Gracias, su cita está confirmada.",
        KeyCancelled = "Su cita está anulada. Gracias por avisarnos.",
        KeyRescheduled = "Anotado. El servicio le contactará para darle otra fecha.",
        Goodbye = "Adiós, que tenga un buen día.",
        AnsweringMachine = "Buenos días. Este es un mensaje automático sobre una cita el {day} a las {time}{name}. {call} Adiós.",
        AnsweringMachineCall = "Para confirmarla o anularla, llame al {phone}. Repito: {phone}.",
        AnsweringMachineNoPhone = "Para confirmarla o anularla, llame al servicio que se la dio.",
        NotUnderstood = "No he entendido su elección.",
        UnknownCall = "Buenos días. Ya no tenemos ningún mensaje para usted. Adiós.",
    };

    public static readonly LanguageTexts Portuguese = new()
    {
        Language = Languages.Pt,
        Sms = new Dictionary<string, string[]>
        {
            ["reminder"] =
            [
                "Lembrete: atendimento {service}, {day} às {time}, {place}. Responda SIM (1) para confirmar, NÃO (2) para cancelar, MUDAR (3) para outra data.",
                "Atendimento {service} {day} às {time}, {place}. SIM/1 confirma, NÃO/2 cancela, 3 outra data.",
            ],
            ["confirmation"] =
            [
                "Novo atendimento {service}: {day} às {time}, {place}. Responda SIM (1) para confirmar, NÃO (2) para cancelar, MUDAR (3) para outra data.",
                "Novo atendimento {service} {day} às {time}, {place}. SIM/1 confirma, NÃO/2 cancela, 3 outra data.",
            ],
            ["change"] =
            [
                "Nova data do seu atendimento {service}: {day} às {time}, {place}. Responda SIM (1) para confirmar, NÃO (2) para cancelar, MUDAR (3) para outra data.",
                "Atendimento {service} mudado: {day} às {time}, {place}. SIM/1 confirma, NÃO/2 cancela, 3 outra data.",
            ],
            ["cancellation"] =
            [
                "O seu atendimento {service} de {day} às {time}, {place}, foi cancelado pelo serviço.{callback}",
                "Atendimento {service} de {day} às {time}, {place}, cancelado.{callback}",
            ],
        },
        CallBack = " Para outra marcação, ligue {phone}.",
        ContactService = " Para outra marcação, contacte o serviço.",
        PhonePlace = "atendimento por telefone",
        HomePlace = "no seu domicílio",
        Subject = (mode, service) => Join(mode == "phone" ? "atendimento telefónico" : "atendimento", service),
        Confirmed = "Obrigado, o seu {subject} de {day} às {time} está confirmado.",
        Cancelled = "O seu {subject} de {day} às {time} está cancelado. Obrigado por nos avisar.",
        RescheduleRequested = "Registado para o seu {subject} de {day} às {time}: o serviço vai contactá-lo para uma nova data.",
        TooLate =
        [
            "Já é tarde para alterar por SMS o seu atendimento de {day} às {time}. Ligue para o serviço: {phone}.",
            "Já é tarde para alterar por SMS o seu atendimento de {day} às {time}. Ligue para o serviço.",
        ],
        OptedOut = "Registado, não vai receber mais mensagens nossas. Envie START para voltar a recebê-las.",
        OptedIn = "Registado, vai voltar a receber os lembretes dos seus atendimentos. Envie STOP para deixar de os receber.",
        Help = "Responda SIM ou 1 para confirmar o seu atendimento, NÃO ou 2 para o cancelar, MUDAR ou 3 para outra data, STOP para não receber mais SMS.",
        Greeting = "Bom dia. Esta é uma mensagem automática sobre um atendimento.",
        Announcement = new Dictionary<string, string>
        {
            ["reminder"] = "Lembramos o seu {subject}, {day} às {time}{place}.",
            ["confirmation"] = "Foi marcado para si um {subject}, {day} às {time}{place}.",
            ["change"] = "O seu {subject} mudou de data. Será {day} às {time}{place}.",
            ["cancellation"] = "O seu {subject} de {day} às {time} foi cancelado pelo serviço. {callback}",
        },
        VoiceAddress = ", na seguinte morada: {name}",
        VoiceHome = ", no seu domicílio",
        VoiceCallBack = "Para outra marcação, ligue {phone}.",
        VoiceContactService = "Para outra marcação, contacte o serviço.",
        Menu = "Para confirmar, marque 1. Para cancelar, marque 2. Para pedir outra data, marque 3. Para ouvir de novo, marque 9.",
        KeyConfirmed = "Obrigado, o seu atendimento está confirmado.",
        KeyCancelled = "O seu atendimento está cancelado. Obrigado por nos avisar.",
        KeyRescheduled = "Registado. O serviço vai contactá-lo para uma nova data.",
        Goodbye = "Adeus, e tenha um bom dia.",
        AnsweringMachine = "Bom dia. Esta é uma mensagem automática sobre um atendimento, {day} às {time}{name}. {call} Adeus.",
        AnsweringMachineCall = "Para o confirmar ou cancelar, ligue {phone}. Repito: {phone}.",
        AnsweringMachineNoPhone = "Para o confirmar ou cancelar, ligue para o serviço que o marcou.",
        NotUnderstood = "Não percebi a sua escolha.",
        UnknownCall = "Bom dia. Já não temos nenhuma mensagem para si. Adeus.",
    };

    public static readonly LanguageTexts Turkish = new()
    {
        Language = Languages.Tr,
        Sms = new Dictionary<string, string[]>
        {
            ["reminder"] =
            [
                "Hatırlatma: {service} randevunuz {day} saat {time}, {place}. Onay için EVET (1), iptal için HAYIR (2), yeni tarih için DEĞİŞTİR (3) yazın.",
                "{service} randevusu {day} saat {time}, {place}. Onay EVET/1, iptal HAYIR/2, yeni tarih 3.",
            ],
            ["confirmation"] =
            [
                "Yeni {service} randevunuz: {day} saat {time}, {place}. Onay için EVET (1), iptal için HAYIR (2), yeni tarih için DEĞİŞTİR (3) yazın.",
                "Yeni randevu {service} {day} saat {time}, {place}. Onay EVET/1, iptal HAYIR/2, yeni tarih 3.",
            ],
            ["change"] =
            [
                "{service} randevunuzun yeni tarihi: {day} saat {time}, {place}. Onay için EVET (1), iptal için HAYIR (2), yeni tarih için DEĞİŞTİR (3) yazın.",
                "{service} randevusu değişti: {day} saat {time}, {place}. Onay EVET/1, iptal HAYIR/2, yeni tarih 3.",
            ],
            ["cancellation"] =
            [
                "{service} randevunuz ({day} saat {time}, {place}) kurum tarafından iptal edildi.{callback}",
                "{service} randevusu ({day} saat {time}, {place}) iptal edildi.{callback}",
            ],
        },
        CallBack = " Yeni randevu için lütfen {phone} numarasını arayın.",
        ContactService = " Yeni randevu için lütfen kurumla iletişime geçin.",
        PhonePlace = "telefonla görüşme",
        HomePlace = "evinizde",
        Subject = (mode, service) => Join(service, mode == "phone" ? "telefon" : null),
        Confirmed = "Teşekkürler, {day} saat {time} randevunuz onaylandı.",
        Cancelled = "{day} saat {time} randevunuz iptal edildi. Bildirdiğiniz için teşekkürler.",
        RescheduleRequested = "{day} saat {time} randevunuz için not aldık: kurum yeni bir tarih için sizi arayacak.",
        TooLate =
        [
            "{day} saat {time} randevunuzu SMS ile değiştirmek için çok geç. Lütfen kurumu arayın: {phone}.",
            "{day} saat {time} randevunuzu SMS ile değiştirmek için çok geç. Lütfen kurumu arayın.",
        ],
        OptedOut = "Not aldık, artık bizden mesaj almayacaksınız. Tekrar almak için START gönderin.",
        OptedIn = "Not aldık, randevu hatırlatmalarını yeniden alacaksınız. Durdurmak için STOP gönderin.",
        Help = "Randevunuzu onaylamak için EVET veya 1, iptal için HAYIR veya 2, yeni tarih için DEĞİŞTİR veya 3, mesajları durdurmak için STOP yazın.",
        Greeting = "Merhaba. Bu, bir randevu hakkında otomatik bir mesajdır.",
        Announcement = new Dictionary<string, string>
        {
            ["reminder"] = "{subject} randevunuzu hatırlatırız: {day}, saat {time}{place}.",
            ["confirmation"] = "Sizin için {subject} randevusu alındı: {day}, saat {time}{place}.",
            ["change"] = "{subject} randevunuzun tarihi değişti. Yeni tarih: {day}, saat {time}{place}.",
            ["cancellation"] = "{day} saat {time} {subject} randevunuz kurum tarafından iptal edildi. {callback}",
        },
        VoiceAddress = ", adres: {name}",
        VoiceHome = ", evinizde",
        VoiceCallBack = "Yeni randevu için lütfen {phone} numarasını arayın.",
        VoiceContactService = "Yeni randevu için lütfen kurumla iletişime geçin.",
        Menu = "Onaylamak için 1'e, iptal etmek için 2'ye, başka bir tarih istemek için 3'e, tekrar dinlemek için 9'a basın.",
        KeyConfirmed = "Teşekkürler, randevunuz onaylandı.",
        KeyCancelled = "Randevunuz iptal edildi. Bildirdiğiniz için teşekkürler.",
        KeyRescheduled = "Not aldık. Kurum yeni bir tarih için sizi arayacak.",
        Goodbye = "Hoşça kalın, iyi günler.",
        AnsweringMachine = "Merhaba. Bu, {day} saat {time}{name} randevusu hakkında otomatik bir mesajdır. {call} Hoşça kalın.",
        AnsweringMachineCall = "Onaylamak veya iptal etmek için lütfen {phone} numarasını arayın. Tekrar ediyorum: {phone}.",
        AnsweringMachineNoPhone = "Onaylamak veya iptal etmek için lütfen randevuyu veren kurumu arayın.",
        NotUnderstood = "Seçiminizi anlayamadım.",
        UnknownCall = "Merhaba. Size iletecek mesajımız kalmadı. Hoşça kalın.",
    };

    public static readonly LanguageTexts Arabic = new()
    {
        Language = Languages.Ar,
        Sms = new Dictionary<string, string[]>
        {
            ["reminder"] =
            [
                "تذكير: موعد {service} يوم {day} الساعة {time}، {place}. للتأكيد أرسلوا نعم أو 1، للإلغاء لا أو 2، لتغيير الموعد 3.",
                "موعد {service} {day} الساعة {time}، {place}. نعم أو 1 للتأكيد، لا أو 2 للإلغاء، 3 للتغيير.",
            ],
            ["confirmation"] =
            [
                "موعد جديد {service} يوم {day} الساعة {time}، {place}. للتأكيد أرسلوا نعم أو 1، للإلغاء لا أو 2، لتغيير الموعد 3.",
                "موعد جديد {service} {day} الساعة {time}، {place}. نعم أو 1 للتأكيد، لا أو 2 للإلغاء، 3 للتغيير.",
            ],
            ["change"] =
            [
                "تغير موعد {service}: يوم {day} الساعة {time}، {place}. للتأكيد أرسلوا نعم أو 1، للإلغاء لا أو 2، لتغيير الموعد 3.",
                "موعد {service} الجديد {day} الساعة {time}، {place}. نعم أو 1 للتأكيد، لا أو 2 للإلغاء، 3 للتغيير.",
            ],
            ["cancellation"] =
            [
                "ألغت المصلحة موعد {service} يوم {day} الساعة {time}، {place}.{callback}",
                "أُلغي موعد {service} {day} الساعة {time}، {place}.{callback}",
            ],
        },
        CallBack = " لموعد آخر اتصلوا بالرقم {phone}.",
        ContactService = " لموعد آخر اتصلوا بالمصلحة.",
        PhonePlace = "موعد هاتفي",
        HomePlace = "في منزلكم",
        Subject = (mode, service) => Join(service, mode == "phone" ? "الهاتفي" : null),
        Confirmed = "شكرا، تم تأكيد موعدكم يوم {day} الساعة {time}.",
        Cancelled = "تم إلغاء موعدكم يوم {day} الساعة {time}. شكرا لإعلامنا.",
        RescheduleRequested = "تم تسجيل طلبكم لموعد {day} الساعة {time}. ستتصل بكم المصلحة لموعد جديد.",
        TooLate =
        [
            "فات الأوان لتغيير موعد {day} الساعة {time} عبر الرسائل. اتصلوا بالمصلحة: {phone}.",
            "فات الأوان لتغيير موعد {day} الساعة {time} عبر الرسائل. اتصلوا بالمصلحة.",
        ],
        OptedOut = "تم، لن تصلكم رسائلنا بعد الآن. أرسلوا START لاستقبالها من جديد.",
        OptedIn = "تم، ستصلكم تذكيرات مواعيدكم من جديد. أرسلوا STOP لإيقافها.",
        Help = "أرسلوا نعم أو 1 لتأكيد موعدكم، لا أو 2 لإلغائه، 3 لتغييره، STOP لإيقاف الرسائل.",
        Greeting = "مرحبا. هذه رسالة آلية بخصوص موعد.",
        Announcement = new Dictionary<string, string>
        {
            ["reminder"] = "نذكركم بموعد {subject} يوم {day} الساعة {time}{place}.",
            ["confirmation"] = "تم تحديد موعد {subject} لكم يوم {day} الساعة {time}{place}.",
            ["change"] = "تغير تاريخ موعد {subject}. سيكون يوم {day} الساعة {time}{place}.",
            ["cancellation"] = "ألغت المصلحة موعد {subject} يوم {day} الساعة {time}. {callback}",
        },
        VoiceAddress = "، في العنوان التالي: {name}",
        VoiceHome = "، في منزلكم",
        VoiceCallBack = "لموعد آخر اتصلوا بالرقم {phone}.",
        VoiceContactService = "لموعد آخر اتصلوا بالمصلحة.",
        Menu = "للتأكيد اضغطوا 1. للإلغاء اضغطوا 2. لطلب موعد آخر اضغطوا 3. للاستماع من جديد اضغطوا 9.",
        KeyConfirmed = "شكرا، تم تأكيد موعدكم.",
        KeyCancelled = "تم إلغاء موعدكم. شكرا لإعلامنا.",
        KeyRescheduled = "تم التسجيل. ستتصل بكم المصلحة لتحديد موعد جديد.",
        Goodbye = "مع السلامة، ونتمنى لكم يوما سعيدا.",
        AnsweringMachine = "مرحبا. هذه رسالة آلية بخصوص موعد يوم {day} الساعة {time}{name}. {call} مع السلامة.",
        AnsweringMachineCall = "لتأكيده أو إلغائه اتصلوا بالرقم {phone}. أكرر: {phone}.",
        AnsweringMachineNoPhone = "لتأكيده أو إلغائه اتصلوا بالمصلحة التي حددته.",
        NotUnderstood = "لم أفهم اختياركم.",
        UnknownCall = "مرحبا. لم تعد لدينا رسالة لكم. مع السلامة.",
    };

    public static readonly IReadOnlyList<LanguageTexts> All = [French, English, Spanish, Portuguese, Turkish, Arabic];

    /// <summary>The texts of a stored language code; French for anything else.</summary>
    public static LanguageTexts For(string? language) => All.FirstOrDefault(t => t.Language.Code == language) ?? French;

    private static string Join(string? first, string? second) => string.Join(' ', new[] { first, second }.OfType<string>());
}
