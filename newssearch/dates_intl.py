"""Dates as news in other languages writes them: relative times and month names.

German ``vor 2 Stunden``, French ``il y a 2 heures``, Spanish ``hace 3 días``, Hebrew
``לפני שעתיים`` (Hebrew and Arabic have dual forms: "two hours" is one word), Arabic
``منذ ساعتين``; and absolute dates with month names in those languages (``13 août
2025``, ``13. März 2025``, ``13 de agosto de 2025``, ``13 באוגוסט 2025``, ``13 أغسطس
2025``), rewritten with English month names for dateutil. Our own tables: small,
exact, no guessing, and the same rules as :mod:`newssearch.dates` for what a relative
time means (a month is 30 days, a year 365).
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

__all__ = ["relative_seconds", "english_months"]

_S, _MIN, _H, _D = 1, 60, 3600, 86400
_W, _MO, _Y = 7 * _D, 30 * _D, 365 * _D

# word -> (seconds of one unit, the count the word itself implies: 1 singular, 2 dual, None plural)
_UNITS: Dict[str, Tuple[int, Optional[int]]] = {}


def _add(seconds: int, singular: str = "", plural: str = "", dual: str = "") -> None:
    for words, implied in ((singular, 1), (plural, None), (dual, 2)):
        for word in words.split():
            _UNITS[word] = (seconds, implied)


# German, French, Spanish (plural forms take a number; a singular after "vor einer" too)
_add(_S, "sekunde seconde segundo", "sekunden secondes segundos")
_add(_MIN, "minute minuto", "minuten minutes minutos")
_add(_H, "stunde heure hora", "stunden heures horas")
_add(_D, "tag jour día dia", "tagen tage jours días dias")
_add(_W, "woche semaine semana", "wochen semaines semanas")
_add(_MO, "monat mois mes", "monaten monate meses")
_add(_Y, "jahr an année año ano", "jahren jahre ans années años anos")
# Hebrew
_add(_S, "שנייה שניה", "שניות")
_add(_MIN, "דקה", "דקות", "דקתיים")
_add(_H, "שעה", "שעות", "שעתיים")
_add(_D, "יום", "ימים", "יומיים")
_add(_W, "שבוע", "שבועות", "שבועיים")
_add(_MO, "חודש", "חודשים", "חודשיים")
_add(_Y, "שנה", "שנים", "שנתיים")
# Arabic
_add(_S, "ثانية", "ثوان ثواني ثوانٍ", "ثانيتين ثانيتان")
_add(_MIN, "دقيقة", "دقائق", "دقيقتين دقيقتان")
_add(_H, "ساعة", "ساعات", "ساعتين ساعتان")
_add(_D, "يوم", "أيام ايام", "يومين يومان")
_add(_W, "أسبوع اسبوع", "أسابيع اسابيع", "أسبوعين اسبوعين")
_add(_MO, "شهر", "أشهر اشهر شهور", "شهرين")
_add(_Y, "سنة عام", "سنوات سنين أعوام اعوام", "سنتين عامين")

_NUMBERS = {
    **dict.fromkeys("ein eine einer einem einen un une uno una אחת אחד واحد واحدة".split(), 1),
    **dict.fromkeys("zwei deux dos שתי שני שתיים اثنين اثنتين".split(), 2),
    **dict.fromkeys("drei trois tres שלוש שלושה ثلاث ثلاثة".split(), 3),
    **dict.fromkeys("vier quatre cuatro ארבע ארבעה أربع أربعة".split(), 4),
    **dict.fromkeys("fünf cinq cinco חמש חמישה خمس خمسة".split(), 5),
    **dict.fromkeys("sechs six seis שש שישה ست ستة".split(), 6),
    **dict.fromkeys("sieben sept siete שבע שבעה سبع سبعة".split(), 7),
    **dict.fromkeys("acht huit ocho שמונה ثماني ثمانية".split(), 8),
    **dict.fromkeys("neun neuf nueve תשע תשעה تسع تسعة".split(), 9),
    **dict.fromkeys("zehn dix diez עשר עשרה عشر عشرة".split(), 10),
}
_LEAD = re.compile(r"(?:vor|il y a|hace|לפני|منذ|قبل)\s+(.+)")
_FIXED = {
    **dict.fromkeys(["jetzt", "gerade eben", "soeben", "heute", "à l'instant", "maintenant", "aujourd'hui",
                     "ahora", "hoy", "עכשיו", "היום", "כעת", "الآن", "اليوم", "الان"], 0),
    **dict.fromkeys(["gestern", "hier", "ayer", "אתמול", "أمس", "الأمس", "امس"], _D),
}
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def relative_seconds(key: str) -> Optional[float]:
    """Seconds before the reference time that *key* (squashed, lower-cased) means, in
    German, French, Spanish, Hebrew or Arabic; None when it is not such a time."""
    if key in _FIXED:
        return float(_FIXED[key])
    m = _LEAD.fullmatch(key)
    if not m:
        return None
    words = m.group(1).translate(_ARABIC_DIGITS).rstrip(".").split()
    if len(words) == 1:
        unit = _UNITS.get(words[0])
        if unit is None or unit[1] is None:  # "vor Stunden": no number, no time
            return None
        return float(unit[0] * unit[1])
    if len(words) == 2:
        unit = _UNITS.get(words[1])
        if unit is None:
            return None
        number = words[0].replace(",", ".")
        count = _NUMBERS.get(number)
        if count is None:
            try:
                count = float(number)
            except ValueError:
                return None
        return float(count * unit[0])
    return None


_MONTHS = {
    # French
    "janvier": "January", "février": "February", "fevrier": "February", "mars": "March", "avril": "April",
    "mai": "May", "juin": "June", "juillet": "July", "août": "August", "aout": "August",
    "septembre": "September", "octobre": "October", "novembre": "November", "décembre": "December",
    "decembre": "December",
    # German (Mai, August, September, November as in English or French above)
    "januar": "January", "jänner": "January", "februar": "February", "märz": "March", "maerz": "March",
    "juni": "June", "juli": "July", "oktober": "October", "dezember": "December",
    # Spanish
    "enero": "January", "febrero": "February", "marzo": "March", "abril": "April", "mayo": "May",
    "junio": "June", "julio": "July", "agosto": "August", "septiembre": "September", "setiembre": "September",
    "octubre": "October", "noviembre": "November", "diciembre": "December",
    # Hebrew
    "ינואר": "January", "פברואר": "February", "מרץ": "March", "מרס": "March", "אפריל": "April", "מאי": "May",
    "יוני": "June", "יולי": "July", "אוגוסט": "August", "ספטמבר": "September", "אוקטובר": "October",
    "נובמבר": "November", "דצמבר": "December",
    # Arabic: the Egyptian/Gulf names and the Levantine ones
    "يناير": "January", "فبراير": "February", "مارس": "March", "أبريل": "April", "ابريل": "April",
    "مايو": "May", "يونيو": "June", "يوليو": "July", "أغسطس": "August", "اغسطس": "August",
    "سبتمبر": "September", "أكتوبر": "October", "اكتوبر": "October", "نوفمبر": "November", "ديسمبر": "December",
    "كانون الثاني": "January", "شباط": "February", "آذار": "March", "نيسان": "April", "أيار": "May",
    "حزيران": "June", "تموز": "July", "آب": "August", "أيلول": "September", "تشرين الأول": "October",
    "تشرين الثاني": "November", "كانون الأول": "December",
}
_MONTH_RE = re.compile(
    r"(?<!\w)(?:ב|ל)?(" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE
)
# filler words between day, month and year: "13 de agosto de 2025", "le 1er août"
_FILLER = re.compile(r"(?<!\w)(?:de|del|le|den|יום|في)(?!\w)|(?<=\d)(?:er|º|ª)(?!\w)|،", re.IGNORECASE)


def english_months(text: str) -> Optional[str]:
    """*text* with a month name of another language in English (and the filler words
    around it dropped), for dateutil; None when it names no such month."""
    if not _MONTH_RE.search(text):
        return None
    out = _MONTH_RE.sub(lambda m: _MONTHS.get(m.group(1).lower()) or _MONTHS[m.group(1)], text)
    return " ".join(_FILLER.sub(" ", out.translate(_ARABIC_DIGITS)).split())
