"""Writes the demo training data beside this file, reproducibly (fixed seed, no randomness from outside):

  python demo/data/generate.py        -> service_tickets.csv, belegklassifizierung.csv

The texts are invented: customer e-mails of a Mittelstand manufacturer (queue, priority) and the first
lines of business documents as a DMS would read them (document class). They are built from sentence
pools per class, mixed with sentences of neighbouring classes, typos, dropped umlauts and mixed lengths,
and a small share of inconsistent labels, as real ticket histories have, so that a classifier must
generalise rather than look up a template. Contact details in the texts are fictitious (example.com,
the documented example IBAN, 0xxx-555 numbers)."""
import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240611

FIRST = ["Anna", "Jonas", "Petra", "Markus", "Sabine", "Thomas", "Julia", "Stefan", "Claudia", "Michael", "Katrin",
         "Frank", "Birgit", "Uwe", "Melanie", "Ralf", "Nicole", "Jörg", "Sandra", "Tobias", "Ayse", "Dimitri"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz",
        "Koch", "Richter", "Klein", "Wolf", "Neumann", "Schwarz", "Zimmermann", "Krüger", "Yilmaz", "Hartmann"]
COMPANIES = ["Bäckerei Huber", "Schreinerei Lang KG", "Autohaus Brandt GmbH", "Elektro Vogel", "Praxis Dr. Seidel",
             "Metallbau Krause GmbH & Co. KG", "Hotel Seeblick", "Steuerbüro Albrecht", "Gärtnerei Sommer",
             "Kanzlei Roth & Partner", "Fliesen Kaiser", "Landmaschinen Pohl", "Druckerei Engel", "Café Linde",
             "Spedition Franke", "Sanitär Baumann", "Brauerei Adler", "Zahntechnik Berger", "Optik Winter"]
PRODUCTS = ["Etikettendrucker LX-200", "Kassensystem K3", "Waage W-15", "Scanner S40", "Steuerung PLC-8",
            "Lüftungsmodul V2", "Kompressor KP-500", "Router R7", "Terminal T9", "Kühlzelle KZ-3",
            "Förderband FB-12", "Heizregler HR-4", "Software-Modul Lager", "Ersatzakku A12", "Displayeinheit D5"]
CITIES = ["Bielefeld", "Ulm", "Regensburg", "Kassel", "Heilbronn", "Paderborn", "Würzburg", "Rosenheim", "Siegen",
          "Osnabrück", "Fulda", "Göttingen", "Landshut", "Erfurt", "Trier"]


def _fill(rng: random.Random, text: str) -> str:
    values = {
        "product": rng.choice(PRODUCTS), "company": rng.choice(COMPANIES), "city": rng.choice(CITIES),
        "order": f"{rng.choice(['A', 'B', 'AU', ''])}{rng.randint(10000, 99999)}",
        "invoice": f"{rng.choice(['RE', 'R-', '2024-', '2025-'])}{rng.randint(1000, 99999)}",
        "customer": f"{rng.randint(10000, 99999)}", "amount": f"{rng.randint(12, 9800)},{rng.randint(0, 99):02d}",
        "date": f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.choice([2024, 2025])}",
        "days": str(rng.choice([2, 3, 5, 7, 10, 14])), "qty": str(rng.randint(1, 250)),
        "weekday": rng.choice(["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag"]),
        "error": rng.choice(["E-104", "Fehler 0x2F", "Error 503", "Code 17", "E47", "Timeout", "Fehler 12"]),
    }
    return text.format(**values)


# --- service tickets --------------------------------------------------------------------------------

TICKET_SUBJECTS = {
    "technik": ["{product} startet nicht", "Störung {product}", "Fehlermeldung {error}", "Gerät defekt?",
                "Problem mit Update", "{product} zeigt {error}", "Verbindung bricht ab", "Technische Frage",
                "Software hängt", "Ausfall seit heute morgen", "Druckbild unsauber", "Sensor reagiert nicht"],
    "rechnung": ["Rechnung {invoice}", "Frage zur Rechnung", "Falscher Betrag", "Rechnungskorrektur",
                 "Doppelte Abbuchung", "Rechnung nicht erhalten", "Mehrwertsteuer falsch", "Rechnungsanschrift",
                 "Gutschrift fehlt", "Skonto nicht berücksichtigt", "Zahlung {invoice}"],
    "vertrieb": ["Angebotsanfrage", "Anfrage {product}", "Preise für {qty} Stück", "Interesse an {product}",
                 "Rahmenvertrag", "Mengenrabatt?", "Beratungstermin", "Neue Filiale – Ausstattung",
                 "Vorführgerät", "Angebot erbeten", "Konditionen 2025"],
    "reklamation": ["Reklamation {order}", "Mangel an {product}", "Ware beschädigt", "Garantiefall",
                    "Rücksendung", "Beschwerde", "Falsches Teil erhalten", "Qualitätsmangel", "Umtausch",
                    "Defekt nach {days} Tagen", "Reklamation Lieferung {order}"],
    "lieferung": ["Lieferstatus {order}", "Wo bleibt meine Bestellung?", "Lieferung {order}", "Liefertermin",
                  "Sendungsverfolgung", "Teillieferung", "Lieferadresse ändern", "Lieferverzug",
                  "Zustellung fehlgeschlagen", "Anlieferung {weekday}", "Bestellung {order} noch nicht da"],
    "konto": ["Passwort vergessen", "Zugang gesperrt", "Login geht nicht", "Neuer Benutzer", "Konto löschen",
              "Kundenkonto", "Zugangsdaten", "Adresse ändern", "Bankverbindung ändern", "Zwei-Faktor-Anmeldung",
              "Benutzer entfernen", "Newsletter abmelden"],
}
TICKET_SENTENCES = {
    "technik": [
        "Seit dem letzten Update startet das {product} nicht mehr richtig.",
        "Beim Einschalten erscheint die Meldung {error} und danach passiert nichts.",
        "Das Display bleibt schwarz, obwohl die Stromversorgung in Ordnung ist.",
        "Die Verbindung zum Server bricht alle paar Minuten ab.",
        "Wir haben das Gerät schon neu gestartet, leider ohne Erfolg.",
        "Der Drucker druckt nur noch leere Etiketten.",
        "Die Software friert ein, sobald wir einen Bericht exportieren wollen.",
        "Nach dem Firmware-Update lässt sich die Steuerung nicht mehr konfigurieren.",
        "Im Protokoll steht {error}, was bedeutet das?",
        "Das Netzwerkmodul wird nicht mehr erkannt.",
        "Die Kalibrierung schlägt jedes Mal fehl.",
        "Der Lüfter macht laute Geräusche und das Gerät schaltet sich ab.",
        "Können Sie uns per Fernwartung helfen?",
        "Welche Treiberversion brauchen wir für Windows 11?",
        "Die Schnittstelle zur Warenwirtschaft überträgt keine Daten mehr.",
        "Der Touchscreen reagiert nur noch in der oberen Hälfte.",
        "Seit gestern stürzt die App beim Anmelden ab.",
    ],
    "rechnung": [
        "Auf der Rechnung {invoice} ist ein Betrag von {amount} EUR aufgeführt, vereinbart war weniger.",
        "Wir haben die Rechnung {invoice} zweimal erhalten und auch zweimal bezahlt.",
        "Bitte senden Sie uns eine korrigierte Rechnung mit der richtigen Anschrift.",
        "Die Mehrwertsteuer wurde mit 19 % statt 7 % berechnet.",
        "Uns fehlt noch die Rechnung zur Bestellung vom {date}.",
        "Das vereinbarte Skonto von 2 % wurde nicht abgezogen.",
        "Der Betrag wurde doppelt von unserem Konto abgebucht.",
        "Bitte stellen Sie die Rechnung künftig auf {company} aus.",
        "Können Sie uns die Rechnungen als PDF per E-Mail schicken statt per Post?",
        "Die Gutschrift über {amount} EUR ist bei uns noch nicht verrechnet worden.",
        "Warum wurden Versandkosten berechnet, obwohl frei Haus vereinbart war?",
        "Die Rechnungsnummer fehlt auf dem Beleg, unsere Buchhaltung kann ihn so nicht buchen.",
        "Wir benötigen eine Zahlungsbestätigung für die Rechnung {invoice}.",
        "Die Positionen auf der Rechnung stimmen nicht mit dem Lieferschein überein.",
    ],
    "vertrieb": [
        "Wir interessieren uns für das {product} und bitten um ein Angebot über {qty} Stück.",
        "Gibt es einen Mengenrabatt ab {qty} Einheiten?",
        "Wir eröffnen eine neue Filiale in {city} und brauchen eine komplette Ausstattung.",
        "Könnte uns ein Außendienstmitarbeiter nächste Woche besuchen?",
        "Bitte schicken Sie uns Ihre aktuelle Preisliste.",
        "Ist das {product} auch als Mietgerät verfügbar?",
        "Wir möchten einen Rahmenvertrag für das kommende Jahr abschließen.",
        "Welche Lieferzeit hätte eine Bestellung über {qty} Stück?",
        "Haben Sie ein Vorführgerät, das wir zwei Wochen testen können?",
        "Wir vergleichen gerade Anbieter und hätten gern Ihre Konditionen.",
        "Bieten Sie auch Schulungen für unsere Mitarbeiter an?",
        "Gibt es das Nachfolgemodell schon zu kaufen?",
        "Wir würden gern auf Ihr neues Kassensystem umsteigen, was kostet die Umstellung?",
    ],
    "reklamation": [
        "Das gelieferte {product} ist an der Seite eingedrückt.",
        "Nach nur {days} Tagen ist das Gerät kaputt gegangen, wir möchten es umtauschen.",
        "Wir haben ein falsches Teil erhalten, bestellt war das {product}.",
        "Die Verpackung war beschädigt und zwei Teile sind gebrochen.",
        "Bitte schicken Sie uns ein Rücksendeetikett.",
        "Das ist bereits der zweite Defekt an diesem Gerät, wir sind sehr unzufrieden.",
        "Wir machen hiermit einen Garantieanspruch geltend.",
        "Die Qualität entspricht nicht der Produktbeschreibung.",
        "Die Farbe weicht deutlich vom Muster ab.",
        "Wir verlangen Ersatz oder die Erstattung des Kaufpreises.",
        "Die Dichtung ist undicht, es tritt Öl aus.",
        "Die Maße stimmen nicht, das Teil passt nicht in unsere Anlage.",
        "Fotos von den Schäden hängen an.",
    ],
    "lieferung": [
        "Unsere Bestellung {order} vom {date} ist immer noch nicht angekommen.",
        "Laut Sendungsverfolgung liegt das Paket seit {days} Tagen im Depot.",
        "Können Sie die Lieferung auf {weekday} verschieben?",
        "Bitte liefern Sie an unser Lager in {city} statt an die Hauptadresse.",
        "Wir haben nur eine Teillieferung erhalten, es fehlen noch {qty} Stück.",
        "Wann können wir mit der Lieferung rechnen?",
        "Der Fahrer hat uns nicht angetroffen, wie bekommen wir die Ware jetzt?",
        "Die Anlieferung muss vor 10 Uhr erfolgen, sonst ist die Rampe belegt.",
        "Ist eine Expresszustellung möglich?",
        "Bitte geben Sie uns die Trackingnummer durch.",
        "Der zugesagte Liefertermin wurde schon zweimal verschoben.",
        "Wir brauchen die Ware unbedingt bis {weekday}.",
    ],
    "konto": [
        "Ich habe mein Passwort vergessen und der Link zum Zurücksetzen kommt nicht an.",
        "Mein Zugang wurde nach drei Fehlversuchen gesperrt.",
        "Bitte legen Sie für unsere neue Kollegin einen Benutzer im Kundenportal an.",
        "Bitte löschen Sie mein Kundenkonto und alle gespeicherten Daten.",
        "Unsere Firmenadresse hat sich geändert, bitte im Kundenkonto anpassen.",
        "Wir haben eine neue Bankverbindung für den Lastschrifteinzug.",
        "Die Zwei-Faktor-Anmeldung funktioniert mit dem neuen Handy nicht mehr.",
        "Ein ehemaliger Mitarbeiter hat noch Zugriff, bitte entfernen.",
        "Ich möchte mich vom Newsletter abmelden.",
        "Wie kann ich die E-Mail-Adresse für Benachrichtigungen ändern?",
        "Im Portal sehe ich die Bestellungen meines Kollegen nicht.",
        "Kann ich für mein Konto eine zweite Lieferadresse hinterlegen?",
    ],
}
URGENT = ["Das ist dringend, unsere Produktion steht!", "Bitte sofort melden, wir können nicht arbeiten.",
          "Wir brauchen bis heute Mittag eine Lösung.", "DRINGEND – Kunde wartet im Laden.",
          "Ohne das Gerät können wir morgen nicht öffnen.", "Bitte um schnellstmögliche Rückmeldung!!",
          "Unser Betrieb steht still.", "Eilt sehr!"]
SOON = ["Bitte zeitnah um Rückmeldung.", "Eine Antwort bis Ende der Woche wäre gut.",
        "Wir bräuchten das in den nächsten Tagen.", "Bitte kümmern Sie sich diese Woche darum."]
RELAXED = ["Hat keine Eile.", "Wenn Sie mal Zeit haben.", "Nur zur Info für die nächste Planung.",
           "Eine Antwort bis Ende des Monats genügt.", "Keine Eile, ist nicht kritisch.",
           "Melden Sie sich gern nächste Woche."]
GREETINGS = ["Sehr geehrte Damen und Herren,", "Hallo,", "Guten Tag,", "Hallo zusammen,", "Moin,", "Liebes Team,",
             "Sehr geehrter Herr Wagner,", "Hi,", ""]
CLOSINGS = ["Mit freundlichen Grüßen", "Viele Grüße", "MfG", "Beste Grüße", "Danke und Gruß", "Gruß", ""]
PRIORITY_BASE = {  # hoch, mittel, niedrig
    "technik": (0.45, 0.4, 0.15), "rechnung": (0.15, 0.5, 0.35), "vertrieb": (0.1, 0.4, 0.5),
    "reklamation": (0.35, 0.5, 0.15), "lieferung": (0.35, 0.45, 0.2), "konto": (0.25, 0.45, 0.3),
}
QUEUE_WEIGHTS = {"technik": 26, "rechnung": 17, "vertrieb": 13, "reklamation": 16, "lieferung": 17, "konto": 11}

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def _typos(rng: random.Random, text: str, rate: float) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 4 and rng.random() < rate:
            j = rng.randrange(1, len(word) - 1)
            kind = rng.random()
            if kind < 0.4:
                word = word[:j] + word[j + 1:]  # dropped letter
            elif kind < 0.8:
                word = word[:j - 1] + word[j] + word[j - 1] + word[j + 1:]  # swapped letters
            else:
                word = word[:j] + word[j] + word[j:]  # doubled letter
            words[i] = word
    return " ".join(words)


def _signature(rng: random.Random) -> str:
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    lines = [name]
    if rng.random() < 0.6:
        lines.append(rng.choice(COMPANIES))
    if rng.random() < 0.35:
        lines.append(f"Tel. 0{rng.randint(30, 999)}-555 {rng.randint(100, 999)} {rng.randint(10, 99)}")
    if rng.random() < 0.25:
        lines.append(f"{name.split()[0].lower()}.{rng.randint(1, 99)}@example.com")
    if rng.random() < 0.15:
        lines.append(f"Kundennummer {rng.randint(10000, 99999)}")
    return "\n".join(lines)


def _priority(rng: random.Random, queue: str, urgency: str) -> str:
    if urgency == "urgent":
        weights = (0.85, 0.12, 0.03)
    elif urgency == "soon":
        weights = (0.12, 0.78, 0.1)
    elif urgency == "relaxed":
        weights = (0.03, 0.17, 0.8)
    else:
        weights = PRIORITY_BASE[queue]
    return rng.choices(["hoch", "mittel", "niedrig"], weights=weights)[0]


def ticket(rng: random.Random) -> dict:
    queue = rng.choices(list(QUEUE_WEIGHTS), weights=list(QUEUE_WEIGHTS.values()))[0]
    pool = TICKET_SENTENCES[queue]
    length = rng.choices([1, 2, 3, 4, 5], weights=[18, 30, 27, 15, 10])[0]
    sentences = [_fill(rng, s) for s in rng.sample(pool, min(length, len(pool)))]
    if rng.random() < 0.3:  # a side remark from another queue: tickets rarely stay on one topic
        other = rng.choice([q for q in TICKET_SENTENCES if q != queue])
        sentences.insert(rng.randrange(len(sentences) + 1), _fill(rng, rng.choice(TICKET_SENTENCES[other])))
    urgency = rng.choices(["urgent", "soon", "relaxed", "none"], weights=[25, 15, 15, 45])[0]
    if urgency == "urgent":
        sentences.append(rng.choice(URGENT))
    elif urgency == "soon":
        sentences.append(rng.choice(SOON))
    elif urgency == "relaxed":
        sentences.append(rng.choice(RELAXED))
    style = rng.random()
    if style < 0.2:  # a one-liner typed on a phone
        body = " ".join(sentences[:2]).lower()
        subject = "" if rng.random() < 0.4 else _fill(rng, rng.choice(TICKET_SUBJECTS[queue]))
    else:
        parts = [rng.choice(GREETINGS), " ".join(sentences)]
        if rng.random() < 0.5:
            parts.append(rng.choice(["Vielen Dank im Voraus.", "Danke für Ihre Hilfe.", "Bitte um Rückmeldung.",
                                     "Für Rückfragen stehe ich gern zur Verfügung."]))
        parts += [rng.choice(CLOSINGS), _signature(rng)]
        body = "\n".join(p for p in parts if p)
        subject = _fill(rng, rng.choice(TICKET_SUBJECTS[queue]))
        if rng.random() < 0.15:
            subject = "AW: " + subject
    if rng.random() < 0.35:
        body = _typos(rng, body, rate=rng.choice([0.05, 0.1, 0.2]))
    if rng.random() < 0.15:
        body, subject = body.translate(_UMLAUTS), subject.translate(_UMLAUTS)
    if rng.random() < 0.05:  # the kind of inconsistency real ticket histories have
        queue = rng.choice(list(QUEUE_WEIGHTS))
    return {"subject": subject, "body": body, "queue": queue, "priority": _priority(rng, queue, urgency)}


# --- documents (Belegklassifizierung) ----------------------------------------------------------------

DOC_HEADERS = {
    "invoice": ["RECHNUNG", "Rechnung", "Rechnung Nr. {invoice}", "Ausgangsrechnung", "Rechnung / Invoice",
                "Abschlagsrechnung", "Schlussrechnung"],
    "credit_note": ["GUTSCHRIFT", "Gutschrift Nr. {invoice}", "Rechnungskorrektur", "Gutschrift / Credit Note",
                    "Stornorechnung", "Korrekturbeleg"],
    "delivery_note": ["LIEFERSCHEIN", "Lieferschein Nr. {order}", "Lieferschein", "Warenbegleitschein",
                      "Packliste / Lieferschein", "Versandbeleg"],
    "purchase_order": ["BESTELLUNG", "Bestellung Nr. {order}", "Auftrag", "Bestellschreiben", "Einkaufsbestellung",
                       "Purchase Order / Bestellung"],
    "reminder": ["ZAHLUNGSERINNERUNG", "1. Mahnung", "2. Mahnung", "Zahlungserinnerung", "Letzte Mahnung",
                 "Mahnung – offene Posten"],
    "contract": ["VERTRAG", "Wartungsvertrag", "Rahmenvertrag", "Mietvertrag Gewerberaum", "Dienstleistungsvertrag",
                 "Leasingvertrag", "Vereinbarung"],
    "other": ["Angebot Nr. {order}", "Auftragsbestätigung", "Newsletter", "Einladung", "Kontoauszug",
              "Anschreiben", "Preisliste 2025", "Informationsschreiben", "Protokoll", "Lieferantenselbstauskunft"],
}
DOC_LINES = {
    "invoice": [
        "Rechnungsdatum: {date}", "Rechnungsnummer: {invoice}", "Leistungszeitraum: {date}",
        "Zahlbar innerhalb von {days} Tagen ohne Abzug.", "Nettobetrag {amount} EUR zzgl. 19 % USt.",
        "Gesamtbetrag brutto: {amount} EUR", "Bitte überweisen Sie den Betrag unter Angabe der Rechnungsnummer.",
        "Für unsere Lieferung vom {date} berechnen wir Ihnen:", "Umsatzsteuer-ID: DE{customer}1234",
        "Bei Zahlung bis {date} gewähren wir 2 % Skonto.", "Pos. 1 {product} {qty} Stk.",
        "Bankverbindung: Sparkasse {city}, IBAN DE89 3704 0044 0532 0130 00",
    ],
    "credit_note": [
        "Wir schreiben Ihnen folgenden Betrag gut: {amount} EUR", "Gutschrift zur Rechnung {invoice}",
        "Grund: Rücksendung beschädigter Ware.", "Der Betrag wird mit der nächsten Rechnung verrechnet.",
        "Korrektur der Rechnung {invoice} vom {date}", "Erstattung wegen Preisdifferenz",
        "Die Gutschrift wird auf Ihr Konto überwiesen.", "Storno der Position 2 – {product}",
        "Bonusgutschrift für das Jahr 2024", "Minderung aufgrund Ihrer Reklamation vom {date}",
    ],
    "delivery_note": [
        "Lieferdatum: {date}", "Wir liefern Ihnen gemäß Ihrer Bestellung {order}:", "Menge: {qty} Stück",
        "Anzahl Pakete: {days}", "Ware erhalten: ____________ (Unterschrift)", "Versandart: Spedition",
        "Lieferadresse: Lager {city}", "Artikel {product}, {qty} Stk., Charge {customer}",
        "Gewicht: {qty} kg", "Bitte prüfen Sie die Ware bei Anlieferung auf Vollständigkeit.",
        "Teillieferung – Restmenge folgt", "Palettentausch: 2 Europaletten",
    ],
    "purchase_order": [
        "Hiermit bestellen wir zu den vereinbarten Konditionen:", "Liefertermin: spätestens {date}",
        "Bitte bestätigen Sie diese Bestellung umgehend.", "Bestellnummer bitte auf allen Lieferpapieren angeben.",
        "Lieferung frei Haus an unser Werk {city}", "{qty} x {product} zum Stückpreis von {amount} EUR",
        "Es gelten unsere Allgemeinen Einkaufsbedingungen.", "Ansprechpartner Einkauf: {city}",
        "Zahlungsbedingungen: 30 Tage netto", "Wir bestellen verbindlich gemäß Ihrem Angebot vom {date}.",
    ],
    "reminder": [
        "Sicherlich haben Sie übersehen, dass folgende Rechnung noch offen ist:",
        "Rechnung {invoice} vom {date} über {amount} EUR", "Bitte begleichen Sie den offenen Betrag bis {date}.",
        "Mahngebühr: 5,00 EUR",
        "Sollten Sie bereits gezahlt haben, betrachten Sie dieses Schreiben als gegenstandslos.",
        "Verzugszinsen gemäß § 288 BGB", "Offener Saldo: {amount} EUR",
        "Wir behalten uns vor, den Vorgang an ein Inkassobüro zu übergeben.",
        "Trotz unserer Erinnerung ist noch keine Zahlung eingegangen.", "Fälligkeit überschritten seit {days} Tagen",
    ],
    "contract": [
        "zwischen {company} – nachfolgend Auftraggeber – und", "§ 1 Vertragsgegenstand", "§ 4 Laufzeit und Kündigung",
        "Der Vertrag beginnt am {date} und läuft zunächst 24 Monate.", "Die Kündigungsfrist beträgt drei Monate.",
        "Die monatliche Pauschale beträgt {amount} EUR.", "Änderungen bedürfen der Schriftform.",
        "Gerichtsstand ist {city}.", "Salvatorische Klausel", "Unterschrift Auftraggeber / Auftragnehmer",
        "Der Auftragnehmer verpflichtet sich zur Wartung der Anlage {product}.", "§ 7 Haftung",
    ],
    "other": [
        "Vielen Dank für Ihre Anfrage, gern bieten wir Ihnen an:", "Dieses Angebot ist gültig bis {date}.",
        "Wir bestätigen Ihren Auftrag {order} und liefern voraussichtlich am {date}.",
        "Herzliche Einladung zu unserem Tag der offenen Tür in {city}.", "Neuigkeiten aus unserem Sortiment",
        "Kontostand alt / neu", "Bitte beachten Sie unsere neuen Öffnungszeiten.",
        "Anbei erhalten Sie die gewünschten Unterlagen.", "Teilnehmer: Herr Weber, Frau Koch",
        "Betriebsferien vom {date} bis {date}", "Unsere Preise ändern sich zum {date}.",
        "Zur Aktualisierung unserer Lieferantendaten bitten wir um Rückgabe des Formulars.",
    ],
}
# Lines that look like another class: a reminder quotes an invoice, a credit note corrects one, a
# delivery note repeats the order number, an order confirmation (other) echoes a purchase order.
DOC_CONFUSERS = {
    "invoice": ["delivery_note", "purchase_order"], "credit_note": ["invoice", "reminder"],
    "delivery_note": ["purchase_order", "invoice"], "purchase_order": ["other", "delivery_note"],
    "reminder": ["invoice"], "contract": ["invoice", "other"], "other": ["purchase_order", "invoice", "contract"],
}
DOC_WEIGHTS = {"invoice": 16, "credit_note": 10, "delivery_note": 14, "purchase_order": 12, "reminder": 10,
               "contract": 9, "other": 14}


def _ocr_noise(rng: random.Random, text: str) -> str:
    swaps = [("l", "1"), ("O", "0"), ("rn", "m"), ("ü", "u"), ("e", "c"), ("ß", "B")]
    for a, b in swaps:
        if a in text and rng.random() < 0.25:
            i = text.find(a, rng.randrange(len(text)))
            if i >= 0:
                text = text[:i] + b + text[i + len(a):]
    return text


def document(rng: random.Random) -> dict:
    cls = rng.choices(list(DOC_WEIGHTS), weights=list(DOC_WEIGHTS.values()))[0]
    sender = rng.choice(COMPANIES)
    lines = [sender, (f"{rng.choice(['Hauptstraße', 'Industriestraße', 'Am Markt', 'Gewerbepark'])} "
                      f"{rng.randint(1, 120)}, {rng.randint(10000, 99999)} {rng.choice(CITIES)}")]
    if rng.random() < 0.85:
        lines.append(_fill(rng, rng.choice(DOC_HEADERS[cls])))
    count = rng.choices([1, 2, 3, 4, 6], weights=[15, 25, 30, 20, 10])[0]
    body = [_fill(rng, s) for s in rng.sample(DOC_LINES[cls], min(count, len(DOC_LINES[cls])))]
    if rng.random() < 0.4:
        other = rng.choice(DOC_CONFUSERS[cls])
        body.insert(rng.randrange(len(body) + 1), _fill(rng, rng.choice(DOC_LINES[other])))
    lines += body
    if rng.random() < 0.3:
        lines.append(rng.choice([f"Geschäftsführer: {rng.choice(FIRST)} {rng.choice(LAST)}",
                                 f"Amtsgericht {rng.choice(CITIES)} HRB {rng.randint(1000, 99999)}",
                                 f"Telefon 0{rng.randint(30, 999)} 555-{rng.randint(1000, 9999)}",
                                 f"info@{rng.choice(['beispiel', 'muster', 'example'])}.example.com"]))
    text = "\n".join(lines)
    if rng.random() < 0.3:
        text = _ocr_noise(rng, text)
    if rng.random() < 0.04:
        cls = rng.choice(list(DOC_WEIGHTS))
    return {"text": text, "document_class": cls}


def write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(tickets: int = 720, documents: int = 560) -> None:
    rng = random.Random(SEED)
    write(HERE / "service_tickets.csv", ["subject", "body", "queue", "priority"], [ticket(rng) for _ in range(tickets)])
    rng = random.Random(SEED + 1)
    write(HERE / "belegklassifizierung.csv", ["text", "document_class"], [document(rng) for _ in range(documents)])


if __name__ == "__main__":
    main()
