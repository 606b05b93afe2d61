namespace RappelRdv.Api.Dashboard;

/// <summary>
/// Every sentence the managers and the operator read, in French, in one place: the components
/// (Components/*.razor) hold the markup, this holds the words. Formatting of numbers and dates is
/// in <see cref="French"/>.
/// </summary>
internal static class Copy
{
    public const string Product = "RappelRdv";
    public const string DashboardTitle = "Absences aux rendez-vous";
    public const string SignOut = "Se déconnecter";

    // Login
    public const string LoginTitle = "Connexion – tableau de bord RappelRdv";
    public const string LoginHeading = "Tableau de bord des absences";
    public const string LoginWithProvider = "Se connecter avec ProConnect";
    public const string LoginWithProviderHint = "Agents publics : connectez-vous avec votre compte professionnel (ProConnect).";
    public const string LoginWithKeyHeading = "Avec une clé de gestion";
    public const string LoginIntro = "Saisissez la clé de gestion (managerKey) de votre structure. La clé de l'agenda (apiKey) convient aussi.";
    public const string KeyLabel = "Clé de gestion";
    public const string SignIn = "Se connecter";
    public const string LoginHint = "La connexion dure 12 heures au plus ; le navigateur ne garde pas la clé, seulement une session signée.";
    public const string UnknownKey = "Clé inconnue. Vérifiez-la (elle commence par rrm_ ou rra_) ou demandez-en une nouvelle à l'opérateur.";
    public const string ProviderFailed = "La connexion par le fournisseur d'identité n'a pas abouti. Réessayez ; si cela se reproduit, prévenez l'opérateur.";

    // After the provider
    public const string SignedInTitle = "Connexion réussie";
    public const string Continue = "Continuer vers le tableau de bord";
    public const string ChooseTitle = "Choisir une structure";
    public const string ChooseIntro = "Vous gérez plusieurs structures. Laquelle voulez-vous consulter ?";
    public const string Open = "Ouvrir";
    public const string RefusedTitle = "Accès non autorisé";
    public const string RefusedIntro = "Bonjour, vous êtes bien connecté·e, mais votre adresse n'est inscrite parmi les gestionnaires d'aucune structure de ce service.";
    public const string UnverifiedIntro = "Bonjour, votre fournisseur d'identité n'a pas confirmé cette adresse électronique (ou elle contient des caractères qui en imitent d'autres) : elle ne peut ouvrir le tableau de bord d'aucune structure.";
    public const string RefusedWhatToDo = "Si vous devez consulter ce tableau de bord, demandez à l'opérateur du service (ou à votre référent) d'ajouter votre adresse à la liste des gestionnaires de votre structure. Merci de votre compréhension.";
    public const string BackToLogin = "Revenir à la page de connexion";

    // Period and summary
    public const string Period = "Période";
    public const string From = "Du";
    public const string To = "Au";
    public const string Show = "Afficher";
    public const string Overview = "Vue d'ensemble";
    public const string Download = "Télécharger ce tableau (CSV, Excel)";
    public const string ChartDescription = "Taux d'absence : absents / (honorés + absents). Les valeurs exactes sont dans le tableau.";

    public static string InvalidPeriod(int maxYears) =>
        $"Période invalide : choisissez deux dates, la seconde après la première, sur {maxYears} ans au plus. La période par défaut est affichée.";

    public static string PeriodHint(DateOnly from, DateOnly to) =>
        $"Du {French.Date(from)} au {French.Date(to)} inclus, dates du rendez-vous à l'heure locale.";

    public static string UnknownPastNotice(long count) =>
        $"{French.Number(count)} rendez-vous passés de la période n'ont pas d'issue renseignée (honoré, absent ou excusé) : " +
        "le taux d'absence ne les compte pas. Renseignez-les dans l'agenda pour un taux juste.";

    // Sections
    public const string WeeksTitle = "Taux d'absence par semaine";
    public const string WeeksHint = "Une semaine sans rendez-vous honoré ni manqué n'a pas de taux. La première et la dernière semaine ne comptent que les jours de la période.";
    public const string ServicesTitle = "Taux d'absence par service";
    public const string ChannelsTitle = "Taux d'absence par canal de rappel";
    public const string ConfirmationTitle = "Rendez-vous confirmés ou non";
    public const string ConfirmationChart = "Taux d'absence des rendez-vous confirmés ou non";
    public const string ConfirmationHint = "Un rendez-vous est confirmé quand la personne a répondu OUI (SMS ou touche 1) à un message.";
    public const string HoldoutTitle = "Avec ou sans rappel (groupe témoin)";
    public const string HoldoutChart = "Taux d'absence avec et sans rappel";

    public static string TableCaption(string title) => $"Détail : {title.ToLowerInvariant()}";

    public static readonly string[] Headings = ["Taux d'absence", "Rendez-vous", "Honorés", "Absents", "Excusés", "Annulés", "Sans issue"];

    public const string Total = "Total";

    // The holdout verdict
    public const string NoHoldout = "Aucun rendez-vous sans rappel sur la période : pour mesurer l'effet des rappels, l'opérateur peut régler une part de " +
        "groupe témoin (holdoutPercent, par exemple 10 %) ; ces rendez-vous-là ne reçoivent aucun rappel.";

    public static string SampleTooSmall(int minimum, long reminded, long holdout) =>
        $"Échantillon trop petit pour conclure : il faut au moins {minimum} rendez-vous honorés ou manqués dans " +
        $"chaque groupe (ici {French.Number(reminded)} avec rappel et {French.Number(holdout)} sans). Élargissez la période.";

    public static string Effect(double? reminded, double? holdout, double points) =>
        $"Avec rappel, le taux d'absence est de {French.Percent(reminded)} contre {French.Percent(holdout)} sans rappel : " +
        (points >= 0 ? $"{French.Decimal(points, 1)} points de moins." : $"{French.Decimal(-points, 1)} points de plus.");

    public static string Significant(string p) => $" La différence est statistiquement significative (test de comparaison de deux proportions, {p}).";

    public static string NotSignificant(string p) =>
        $" Cette différence n'est pas statistiquement significative ({p}) : elle peut être due au hasard. Élargissez la période pour en juger.";

    // The extra reminder for those who missed before (riskReminders)
    public const string RiskTitle = "Rappel supplémentaire pour les personnes déjà absentes";
    public const string RiskChart = "Taux d'absence des personnes déjà absentes, avec et sans le rappel supplémentaire";
    public const string RiskNoRule = "Aucune règle de rappel supplémentaire en vigueur : la période compte des rendez-vous d'une règle passée.";
    public const string RiskHint = "Seules les personnes déjà absentes sont tirées au sort entre les deux groupes ; « Non ciblés » compte tous les " +
        "autres rendez-vous. Le groupe témoin reçoit les rappels habituels, sans le rappel supplémentaire : la différence mesure ce " +
        "que ce rappel change.";
    public const string RiskNoHeldOut = "Aucun rendez-vous de personne déjà absente n'a été tenu à l'écart du rappel supplémentaire sur la période : " +
        "pour mesurer son effet, l'opérateur peut régler une part de groupe témoin (riskReminders.holdoutPercent, par exemple 20\u00A0%).";
    public const string RiskNoneYet = "Aucun rendez-vous de personne déjà absente sur la période : rien à comparer pour l'instant.";

    public static string RiskRule(int minNoShows, int lookbackDays, IEnumerable<string> extra, int holdoutPercent) =>
        $"Règle en vigueur : une personne absente au moins {minNoShows} fois à ses rendez-vous des {lookbackDays} derniers jours " +
        $"reçoit en plus {string.Join(" et ", extra)} ; {holdoutPercent}\u00A0% d'entre elles, tirées au sort, ne le reçoivent pas (groupe témoin).";

    /// <summary>"un appel 1 jour avant", "un SMS 3 heures avant", "un SMS 90 minutes avant".</summary>
    public static string RiskExtraReminder(string channel, TimeSpan before) =>
        (channel == "voice" ? "un appel " : "un SMS ") + (
            before.Ticks % TimeSpan.TicksPerDay == 0 ? Units((long)before.TotalDays, "jour")
            : before.Ticks % TimeSpan.TicksPerHour == 0 ? Units((long)before.TotalHours, "heure")
            : Units((long)before.TotalMinutes, "minute")) + " avant";

    private static string Units(long count, string unit) => $"{French.Number(count)} {unit}{(count >= 2 ? "s" : "")}";

    public static string RiskSampleTooSmall(int minimum, long targeted, long heldOut) =>
        $"Trop tôt pour conclure : il faut au moins {minimum} rendez-vous honorés ou manqués dans chaque groupe (ici " +
        $"{French.Number(targeted)} avec le rappel supplémentaire et {French.Number(heldOut)} sans). Élargissez la période ou attendez.";

    public static string RiskEffect(double? targeted, double? heldOut, double points) =>
        $"Parmi les personnes déjà absentes, avec le rappel supplémentaire le taux d'absence est de {French.Percent(targeted)} contre " +
        $"{French.Percent(heldOut)} sans : " +
        (points >= 0 ? $"{French.Decimal(points, 1)} points de moins." : $"{French.Decimal(-points, 1)} points de plus.");

    // Failures
    public const string FailuresTitle = "Échecs d'envoi récents";
    public const string NoFailures = "Aucun message en échec ces 30 derniers jours.";
    public const string FailuresCaption = "Messages non distribués (numéros masqués)";
    public static readonly string[] FailureHeadings = ["Échec le", "Canal", "Message", "Numéro", "Rendez-vous", "Date du rendez-vous", "Erreur"];
    public const string Erased = "effacé";

    public static string FailuresCount(long count, int shown) =>
        count > shown
            ? $"{French.Number(count)} messages en échec ces 30 derniers jours ; les {shown} plus récents :"
            : $"{French.Number(count)} message(s) en échec ces 30 derniers jours :";

    // Write-backs to RDV-Solidarités (CONTRACT §10); the reasons stay as the service recorded them.
    public const string WriteBackFailuresCaption = "Annulations d'usagers que RDV-Solidarités n'a pas pu recevoir (30 derniers jours) : à reporter à la main dans RDV-Solidarités";
    public static readonly string[] WriteBackFailureHeadings = ["Échec le", "Rendez-vous", "Date du rendez-vous", "Raison"];

    // Hangfire
    public const string OperatorTitle = "RappelRdv — accès opérateur";
    public const string OperatorHeading = "Tâches Hangfire";
    public const string OperatorIntro = "Réservé à l'opérateur du service : saisissez la clé d'administration (Admin__ApiKey).";
    public const string OperatorWithProvider = "Se connecter avec le fournisseur d'identité";
    public const string AdminKeyLabel = "Clé d'administration";
    public const string KeyRefused = "Clé refusée.";
    public const string OperatorUnverified = "Votre fournisseur d'identité n'a pas confirmé cette adresse (ou elle contient des caractères qui en imitent d'autres).";
    public const string OperatorRefused = "Votre adresse n'est pas dans la liste des opérateurs (Oidc__Operators).";

    // Wording trial
    public const string TrialTitle = "Essai de formulation des rappels";
    public const string TrialChart = "Taux d'absence par variante de formulation";
    public const string TrialNoComparison = "Pas encore deux variantes avec des rendez-vous sur la période : rien à comparer. Élargissez la période " +
        "ou attendez les rendez-vous créés depuis le début de l'essai.";
    public const string TrialEnded = "Aucun essai en cours : la période compte des rendez-vous d'un essai passé.";
    public const string TrialReference = "Variante de référence";
    public const string TrialTooSmall = "Échantillon trop petit pour conclure";
    public const string TrialLower = "Significativement plus bas que la variante de référence";
    public const string TrialHigher = "Significativement plus haut que la variante de référence";
    public const string TrialNoDifference = "Pas de différence démontrée : l'écart peut être dû au hasard";
    public static readonly string[] TrialHeadings = ["Rendez-vous", "Honorés ou absents", "Absents", "Taux d'absence", "Écart avec la référence", "p"];
    public const string TrialVerdictHeading = "Conclusion";
    public const string TrialVariantHeading = "Variante";

    public static string TrialRunning(string name, IEnumerable<string> variants) =>
        $"Essai en cours : « {name} », variantes {string.Join(", ", variants)}. Chaque nouveau rendez-vous est tiré au sort dans l'une d'elles.";

    public static string TrialMethod(string reference, int comparisons, double level) =>
        $"Chaque variante est comparée à la variante de référence {reference} par le même test que le groupe témoin (comparaison de deux proportions). " +
        (comparisons > 1
            ? $"Avec {comparisons} comparaisons, une différence n'est retenue que si p < {French.Decimal(level, 3)} (le seuil de 5 % partagé entre elles)."
            : "Une différence n'est retenue que si p < 0,05.");

    public static string TrialSampleTooSmall(int minimum, IEnumerable<string> variants) =>
        $"Échantillon trop petit pour conclure : il faut au moins {minimum} rendez-vous honorés ou manqués dans chaque variante " +
        $"(pas encore : {string.Join(", ", variants)}). Élargissez la période ou poursuivez l'essai.";

    /// <summary>A variant's rate against the reference's, in points: "−3,2 points".</summary>
    public static string TrialGap(double points) =>
        points == 0 ? "0 point" : $"{(points < 0 ? "−" : "+")}{French.Decimal(Math.Abs(points), 1)} points";

    // Usage and budget
    public static string UsageTitle(string month) => $"Consommation et budget – {French.Period(month)}";

    public const string UsageMonth = "Mois";
    public const string UsageShowMonth = "Voir ce mois";
    public const string InvalidMonth = "Mois invalide : choisissez le mois en cours ou un mois passé (AAAA-MM, par exemple 2026-11). Le mois en cours est affiché.";
    public const string UsageHint = "Compté à l'envoi : chaque SMS avec ses segments (un SMS long en compte plusieurs), chaque appel décroché " +
        "avec ses minutes, arrondies à la minute supérieure par appel comme Twilio les facture. Mois civils en temps universel (UTC), " +
        "comme le budget et la facture Twilio.";
    public const string SegmentsMeasure = "Segments SMS";
    public const string MinutesMeasure = "Minutes d'appel";
    public const string WarningLabel = "Alerte : 80\u00A0% atteints.";
    public const string ExhaustedLabel = "Budget épuisé.";
    public const string NoBudget = "Aucun budget mensuel n'est fixé pour votre structure : les envois ne sont pas plafonnés, seule la " +
        "consommation est affichée. L'opérateur peut en fixer un, en segments SMS et en minutes d'appel.";

    /// <summary>"1 segment", "0 minute", "1 142 segments": the singular below two, as French has it.</summary>
    public static string Quantity(long count, bool sms) =>
        $"{French.Number(count)} {(sms ? "segment" : "minute")}{(count >= 2 ? "s" : "")}";

    public static string BudgetUse(long used, int cap, double? percent, bool sms) =>
        $"{Quantity(used, sms)} sur {French.Number(cap)} ({French.Percent(percent / 100)})";

    public static string NoCap(long used, bool sms) => $"{Quantity(used, sms)}, sans budget fixé";

    /// <summary>"par SMS" or "par appel": which reminders a spent budget stops.</summary>
    public static string ByChannel(bool sms) => sms ? "par SMS" : "par appel";

    public static string BudgetWarning(bool sms, bool current) =>
        current
            ? $"Au moins 80\u00A0% du budget du mois est utilisé. À 100\u00A0%, les rappels et les confirmations {ByChannel(sms)} ne partiront plus " +
              "jusqu'à la fin du mois ; pour l'éviter, demandez à l'opérateur de relever le budget."
            : "Au moins 80\u00A0% du budget de ce mois-là a été utilisé.";

    public static string BudgetExhausted(bool sms, bool current) =>
        current
            ? $"Les rappels et les confirmations {ByChannel(sms)} ne sont plus envoyés ce mois-ci. Les annulations, les avis de changement " +
              "et les réponses aux personnes partent toujours. Pour reprendre les rappels avant le 1er du mois prochain, demandez à " +
              "l'opérateur de relever le budget."
            : $"Une fois le budget atteint, les rappels et les confirmations {ByChannel(sms)} de ce mois-là n'ont pas été envoyés ; " +
              "les annulations, les avis de changement et les réponses aux personnes sont partis.";

    public static string SendingPaused(DateTime untilLocal) =>
        $"Envois suspendus jusqu'au {French.DateTime(untilLocal)} au plus tard : le compte Twilio du service a refusé un envoi (crédit " +
        "épuisé ou compte suspendu). Aucun message ne part en ce moment ; ceux qui attendent partiront à la reprise. L'opérateur est prévenu.";

    public static string UsageCaption(string month) => $"Messages envoyés par type, {French.Period(month)}";

    public static readonly string[] UsageHeadings = ["Message", "SMS", "Segments", "Appels décrochés", "Minutes"];

    public const string SmsAmount = "Montant SMS";
    public const string CallAmount = "Montant appels";
    public const string TotalAmount = "Montant total";
    public const string NoPrices = "Aucun tarif n'est configuré : le montant n'est pas calculé.";

    public static string Prices(string? segment, string? minute)
    {
        string?[] parts = [segment is null ? null : $"{segment} le segment SMS", minute is null ? null : $"{minute} la minute d'appel"];
        return $"Montant calculé aux tarifs fixés par l'opérateur du service : {string.Join(", ", parts.OfType<string>())} ; ce ne sont pas les prix facturés par Twilio.";
    }
}
