"""Finding the decisions on our proposal in a minutes extract (pöytäkirjanote) or an agenda item.

A registry's minutes extract, a Dynasty item page and a PDF of minutes all follow one municipal
form: a header naming the body, the meeting date and the section ("Kunnanhallitus 12.05.2026 § 45",
"Pöytäkirja 12.05.2026/Pykälä 45"), the case, the officer's proposal ("Päätösehdotus", sv
"Beslutsförslag") and the decision ("Päätös", sv "Beslut"), then appeal instructions. Only the
decision part yields decisions; the officer's proposal is read only when the decision refers back to
it ("Ehdotus hyväksyttiin."), and an item with a proposal but no decision yet is an agenda item.

Precision over recall: a sentence is read only when each of its clauses has exactly one outcome and
every point it names is a point of the proposal; a decision with any sentence not understood yields
nothing (it is reported), so the coordinator types that decision in as before.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import date

from models.enums import Outcome

# The labels that start the parts of an item; the decision part ends at the next one.
_DECISION = re.compile(
    r"^[ \t]*(?:(?:Käsittely ja päätös|KÄSITTELY JA PÄÄTÖS|Päätös ja käsittely)|PÄÄTÖS|Päätös|BESLUT|Beslut)"
    r"(?:[ \t]*/[ \t]*(?:Beslut|BESLUT))?(?:[ \t]*\([^)\n]{1,40}\))?(?:[ \t]+\d{1,2}\.\d{1,2}\.\d{4})?"
    r"[ \t]*(?::|\.|$|[ \t]{2,}|\t|[ \t](?=[A-ZÅÄÖ]))",
    re.MULTILINE,
)
_PROPOSAL = re.compile(
    r"^[ \t]*(?:Päätösehdotus|PÄÄTÖSEHDOTUS|Esittelijän (?:päätös)?ehdotus|Beslutsförslag|BESLUTSFÖRSLAG)"
    r"[ \t]*(?::|$|[ \t]{2,}|\t|[ \t](?=[A-ZÅÄÖ]))",
    re.MULTILINE,
)
_NEXT_PART = re.compile(
    r"^[ \t]*(?:Päätösehdotus|Päätös|Muutoksenhaku|Oikaisuvaatimus\w*|Valitusosoitus|Muutoksenhakukielto|"
    r"Tiedoksi|Lisätiedot|Lisätietoja|Täytäntöönpano|Jakelu|Otteen oikeaksi todistaa|Pöytäkirjan tarkast\w*|"
    r"Käsittely|Kokouskäsittely|Asian käsittely|Liitteet|Oheismateriaali|Behandling|Bilagor|"
    r"Valmistelija|Esittelijä|Beslutsförslag|Beslut|Ändringssökande|Besvärsanvisning|Rättelseyrkande|"
    r"Delges|Tilläggsuppgifter|Verkställighet|Utdragets riktighet)\b",
    re.MULTILINE | re.IGNORECASE,
)
_AGENDA = re.compile(r"\b(?:esityslista|föredragningslista)\s*:?\s*\d{1,2}\.\d{1,2}\.\d{4}", re.IGNORECASE)
_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
# "§ 45", "45 §", "Pykälä 45", most explicit first: in "3.6.2026 § 112" the year is not the section.
_SECTIONS = (
    re.compile(r"§\s*(\d{1,5})(?![.\d])"),
    re.compile(r"\b(?:pykälä|paragraf)\s*(\d{1,5})\b", re.IGNORECASE),
    re.compile(r"(?<![.\d])(\d{1,5})\s*§"),
)
_MEETING_LINE = re.compile(
    r"pöytäkirja|kokous|esityslista|protokoll|sammanträde|möte|föredragningslista|§", re.I
)
_BODY_KINDS = r"(?:hallitus|valtuusto|lautakunta|jaosto|toimikunta|styrelsen|fullmäktige|nämnden|sektionen)"
_BODY_NAME = re.compile(
    r"\b(?:[A-ZÅÄÖ][a-zåäö\-]+(?:n|s)\s+){0,2}(?:[a-zåäö\-]+n\s+)?(?:[A-ZÅÄÖa-zåäö\-]+-\s+(?:ja|och)\s+)?"
    r"[A-ZÅÄÖa-zåäö\-]*" + _BODY_KINDS + r"\b"
)
_BODY_KIND = re.compile(_BODY_KINDS, re.IGNORECASE)
#: The Swedish names of the same kinds of body.
_SAME_KIND = {
    "styrelsen": "hallitus",
    "fullmäktige": "valtuusto",
    "nämnden": "lautakunta",
    "sektionen": "jaosto",
}


def _kind(found: re.Match[str]) -> str:
    word = found.group(0).casefold()
    return _SAME_KIND.get(word, word)


# Outcomes by the words that state them, most specific first: "hyväksyi muutettuna" is
# "hyväksytty muutettuna", not "hyväksytty ehdotuksen mukaisesti". Finnish and Swedish.
_OUTCOMES: tuple[tuple[Outcome, re.Pattern[str]], ...] = tuple(
    (outcome, re.compile(pattern, re.IGNORECASE))
    for outcome, pattern in (
        (Outcome.poydalle, r"pöydälle|bordl[äa]\w*"),
        (Outcome.palautettu, r"palaut\w*|uudelleen valmisteltavaksi|återremitt\w*"),
        (Outcome.poistettu, r"poist\w* esityslistalta|avför\w* från föredragningslistan|ströks\b"),
        (
            Outcome.hylatty,
            r"hyl(?:k|ä|j)\w*|\bei\b(?:\s+\w+){0,3}?\s+hyväksy\w*|\bettei\b|hyväksymättä|förkast\w*|"
            r"avsl(?:og|å)\w*|godkän\w*\s+(?:inte|ej|icke)\b|\b(?:inte|ej|icke)\s+(?:\w+\s+)?godkän\w*",
        ),
        # Not "lähetetään tiedoksi" (who is told), only "merkitsi tiedoksi" (what was decided).
        (
            Outcome.merkitty_tiedoksi,
            r"merki\w*(?:\s+\S+){0,4}?\s+tiedoksi|tiedoksi\s+merki\w*|anteckn\w*(?:\s+\S+){0,4}?\s+för kännedom|"
            r"för kännedom\s+anteckn\w*",
        ),
        (Outcome.hyvaksytty_muutettu_ehdotus, r"muutetu\w* (?:päätös)?ehdotuks\w*|ändrade förslag\w*"),
        (
            Outcome.hyvaksytty_muutettuna,
            r"muutettuna|(?:seuraavin |näin )?muutoksin|muutoksella|med (?:följande |den )?ändring\w*",
        ),
        (Outcome.hyvaksytty, r"hyväks\w*|godk[äa]n\w*"),
    )
)
_APPROVALS = frozenset(
    {
        Outcome.hyvaksytty,
        Outcome.hyvaksytty_aanestys,
        Outcome.hyvaksytty_muutettuna,
        Outcome.hyvaksytty_muutettu_ehdotus,
    }
)
_VOTE = re.compile(
    r"äänesty\w*|äänin \d+\s*[-–]\s*\d+|\d+ äänellä \d+ vastaan|omröstning|röster", re.IGNORECASE
)
_NO_VOTE = re.compile(
    r"ilman äänesty\w*|äänestyksettä|äänestystä ei|ei äänestystä|utan omröstning|ingen omröstning",
    re.IGNORECASE,
)
# Sentences that cannot be read as a decision of this body on our points: an exception ("lukuun
# ottamatta kohtaa 4"), a proposal to another body ("esittää valtuustolle", "hyväksyttäväksi"), a
# future or condition ("hyväksytään myöhemmin", "kun talousarvio on hyväksytty"), a replacement.
_UNSAFE = re.compile(
    r"lukuun ottamatta|muilta kuin|\bpaitsi\b|med undantag|förutom|\besit(?:tä|ti|tänyt|täisi)\w*|"
    r"hyväksyttäväksi|hyväksymistä|\bföreslå\w*|för godkännande|\bhyväksytään|\bpalautetaan|\bhylätään|"
    r"\bmerkitään|\bkäsitellään|\bjätetään|\bmyöhemmin|\bjos\b|\bmikäli\b|\bkun\b|\bsenare\b|"
    r"\bsijaan\b|\btilalle\b|i stället|\bifall\b|lukuunottamatta|\butom\b|"
    # a counter-proposal or a member's motion adopted, a motion that failed
    r"vastaehdotu\w*|muutosehdotu\w*|[A-ZÅÄÖ][a-zåäö]+(?:sen|n) (?:vasta|muutos)?ehdotuksen|ehdotettiin|\braukesi|"
    r"ei kannatettu|motsförslag|\bförföll\b|"
    # someone else's or an earlier decision reported: a perfect tense, "already", "earlier", a date
    r"\bon (?:jo )?(?:\w+ )?(?:hyväksytty|hylätty|palautettu|hyväksynyt|hylännyt|palauttanut|käsitellyt)\b|"
    r"\bjo\b|aiemmin|aikaisemmin|edellisessä|\btotesi|todettiin|merkittiin, että|hyväksyneen|otto-oikeu\w*|"
    r"\bhar (?:godkänt|avslagit|återremitterat)|tidigare|\d{1,2}\.\d{1,2}\.(?:\d{4})?|"
    # a qualified approval
    r"osittain|\bdelvis\b|periaattee\w*|i princip|ehdollise\w*|edellyttäen|edellytyksellä|förutsatt",
    re.IGNORECASE,
)
# Negations: "ei hyväksynyt", "ei voi hyväksyä", "jätti hyväksymättä", "godkände ej", "att icke godkänna".
_NEGATED = re.compile(
    r"\bei\b(?:\s+\w+){0,3}?\s+hyväksy\w*|\bettei\b|hyväksymättä|godkän\w*\s+(?:inte|ej|icke)\b|"
    r"\b(?:inte|ej|icke)\s+(?:\w+\s+)?godkän\w*",
    re.IGNORECASE,
)
# "liitteen kohdan 3", "30 §:n kohdan 2": another document's point, not ours (only "esityksen
# kohdat" and bare "kohdat" are ours).
_OTHER_POINTS = re.compile(
    r"(?:\b(?!esityksen\b|framställningens\b)[a-zåäö]+n|§:n)\s+(?:kohd\w*|kohta\w*|kohtien)\b", re.I
)
# "kohdat 1–3", "kohdan 4", "kohtien 1 ja 2", "1. kohdan", "punkterna 1–3", "punkt 4".
_POINTS = re.compile(
    r"\b(?:kohd\w*|kohta\w*|kohtien|punkt\w*)\s+(?P<after>\d+\.?(?:\s*(?:[-–]|,|ja|och|sekä)\s*\d+\.?)*)"
    r"|\b(?P<before>\d+\.(?:\s*(?:[-–]|,|ja|och|sekä)\s*\d+\.)*)\s*(?:kohd\w*|kohta\w*|punkt\w*)\b",
    re.IGNORECASE,
)
# A clause with no points is about the committee's whole proposal when it names it ("esityksen",
# "framställningen") or the whole case ("asia", "ärendet"); naming the officer's proposal
# ("ehdotus", "päätösehdotuksen", "förslaget"), or nothing, with an approval, it refers back to that
# proposal, whose points are read instead.
_WHOLE = re.compile(r"\b(?:esity\w*|esitys\w*|asia\w*|framställ\w*|ärende\w*)", re.IGNORECASE)
_REFERS_BACK = -2
_AS_PROPOSED = re.compile(r"\bmukaisesti\b|\benligt\b", re.IGNORECASE)
_OTHERWISE = re.compile(r"muilta osin|i övrigt", re.IGNORECASE)
# Clauses: split at ";" and at ", " / " ja " / " sekä " / " och " / " men " not inside a list of numbers.
_CLAUSE = re.compile(r";|,?\s+(?:ja|sekä|och|men|mutta)\s+(?!\d)|,\s+(?!\d|ja\b|och\b)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9])")
# The liaison is read only where the minutes name one: "nimetä/nimesi/nimeää (järjestö)yhdyshenkilöksi
# <title> Etunimi Sukunimi" (the object form), or "(järjestö)yhdyshenkilöksi nimettiin/valittiin
# <title> Etunimi Sukunimi" (the nominative); Swedish "till kontaktperson utsågs …".
# Titles in lower case, then exactly a first and a last name (either may be double-barrelled),
# then the end of the clause: not "Forssan Setlementti ry:n toiminnanjohtaja …", not two people.
_PART = r"[A-ZÅÄÖ][a-zåäö]+(?:-[A-ZÅÄÖ][a-zåäö]+)?"
_NAME = (
    r"(?:[a-zåäö\-]+\s+){0,3}?(?P<name>" + _PART + r"\s+" + _PART + r")"
    r"(?=\s*(?:[.,;:)]|$)|\s+(?:ja|sekä|och)\s+(?![A-ZÅÄÖ])[a-zåäö])"
)
# Only the proposal's role: "järjestöyhdyshenkilöksi", or "yhdyshenkilöksi" with no other role's
# genitive before it ("Nuorisovaltuuston yhdyshenkilöksi" is another role).
_ROLE = r"(?:[Jj]ärjestöyhdyshenkilöksi|(?:(?:[Jj]ärjestöjen|[Kk]unnan|[Kk]aupungin)\s+)?[Yy]hdyshenkilöksi)"
_LIAISON_OBJECT = re.compile(
    r"\b(?:nimetä|nimeää|nimesi|valita|valitsee|valitsi)\s+(?:\w+\s+){0,3}?" + _ROLE + r"\s+" + _NAME
)
_LIAISON_NOMINATIVE = re.compile(
    r"(?<![a-zåäö]n )"
    + _ROLE
    + r"\s+(?:nimettiin|valittiin)\s+"
    + _NAME
    + r"|\b(?:nimettiin|valittiin)\s+"
    + _ROLE
    + r"\s+"
    + _NAME.replace("name", "name2")
    + r"|[Kk]ontaktperson\w*\s+(?:utsågs|utses)\s+"
    + _NAME.replace("name", "name3")
)


@dataclass(frozen=True)
class Found:
    """One decision found: point, outcome, and the sentence it came from (the evidence)."""

    point: int
    outcome: Outcome
    sentence: str
    liaison_name: str | None = None


@dataclass
class Reading:
    """What one item said. ``decided``: it has a decision part; ``agenda``: it is an agenda item (a
    proposal and no decision yet). ``not_understood``: sentences of the decision that named an
    outcome but could not be read safely (they yield nothing)."""

    meeting_date: date | None = None
    section: int | None = None
    deciding_body: str | None = None
    decided: bool = False
    agenda: bool = False
    found: list[Found] = field(default_factory=list)
    not_understood: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Enough to record a decision: the meeting date and the section are known."""
        return self.meeting_date is not None and self.section is not None


def _part(text: str, start: re.Pattern[str]) -> str | None:
    found = start.search(text)
    if found is None:
        return None
    rest = text[found.end() :]
    end = _NEXT_PART.search(rest)
    return (rest[: end.start()] if end else rest).strip()


def _outcomes(clause: str) -> list[Outcome]:
    """The outcomes a clause states (one, normally); "hyväksyi muutettuna" is one outcome."""
    found: list[Outcome] = []
    rest = clause
    for outcome, pattern in _OUTCOMES:
        if pattern.search(rest):
            found.append(outcome)
            rest = pattern.sub(" ", rest)
    # "hyväksyi muutettuna": the specific kind of approval stands for the generic one.
    if Outcome.hyvaksytty in found and len(set(found) & _APPROVALS) > 1:
        found.remove(Outcome.hyvaksytty)
    # "hylkäsi ... ja hyväksyi" is two clauses; "ei hyväksynyt", "jätti hyväksymättä" is one rejection.
    if Outcome.hylatty in found and _NEGATED.search(clause):
        found = [o for o in found if o not in _APPROVALS]
    if Outcome.hyvaksytty in found and _VOTE.search(clause) and not _NO_VOTE.search(clause):
        found[found.index(Outcome.hyvaksytty)] = Outcome.hyvaksytty_aanestys
    return found


def _numbers(text: str) -> list[int]:
    numbers: list[int] = []
    for span in re.finditer(r"(\d+)\s*[-–]\s*(\d+)|(\d+)", text):
        if span.group(3):
            numbers.append(int(span.group(3)))
        else:
            low, high = int(span.group(1)), int(span.group(2))
            numbers.extend(range(low, high + 1) if low <= high <= low + 50 else [])
    return numbers


def _points(clause: str) -> list[int]:
    points: list[int] = []
    for match in _POINTS.finditer(clause):
        points.extend(_numbers((match.group("after") or match.group("before")).replace(".", " ")))
    return list(dict.fromkeys(points))


def _liaison(part: str) -> str | None:
    """The liaison the decision names, in the nominative; None when it names none, names two, or
    names one in an object form that cannot be turned back safely ("Maija Mäkisen" → "Maija
    Mäkinen" is safe, "Maija Mäkelän" is not), or in a sentence that negates or replaces."""
    names: set[str] = set()
    for sentence in _SENTENCE.split(part):
        if re.search(
            r"\bei\b|\bsijaan\b|\btilalle\b|\binte\b|i stället|sijai\w*|aiemmin|\bnyt\b|varahenkilö\w*",
            sentence,
            re.IGNORECASE,
        ):
            if _LIAISON_OBJECT.search(sentence) or _LIAISON_NOMINATIVE.search(sentence):
                return None
            continue
        for found in _LIAISON_NOMINATIVE.finditer(sentence):
            names.add(found.group("name") or found.group("name2") or found.group("name3"))
        for found in _LIAISON_OBJECT.finditer(sentence):
            first, last = found.group("name").split()
            if not re.search(r"[aeiouyäö]sen$", last):
                return None  # "Mäkelän", "Laineen", "Hansen": the nominative is not known
            names.add(f"{first} {last[: -len('sen')]}nen")
    return names.pop() if len(names) == 1 else None


def _clauses(sentence: str) -> list[str]:
    """The sentence's clauses; a clause naming neither an outcome nor points belongs to the one
    before it ("… ja nimetä yhdyshenkilöksi …" stays with its verb)."""
    merged: list[str] = []
    for clause in (c.strip() for c in _CLAUSE.split(sentence)):
        if not clause:
            continue
        if merged and not _outcomes(clause) and not _points(clause):
            merged[-1] += " " + clause
        else:
            merged.append(clause)
    # A clause with points but no outcome takes the next clause's ("Kohta 4, ... palautettiin").
    result: list[str] = []
    for clause in merged:
        if result and not _outcomes(result[-1]) and _points(result[-1]):
            result[-1] += " " + clause
        else:
            result.append(clause)
    return result


_POINT_WORD = re.compile(r"\b(?:kohd\w*|kohta\w*|kohtien|punkt\w*)\b", re.IGNORECASE)
_OFFICERS = re.compile(r"\behdotu\w*|\bförslag\w*", re.IGNORECASE)
_QUALIFIER = re.compile(
    _VOTE.pattern + r"|muutettuna|muutoksin|muutoksella|med (?:följande |den )?ändring\w*", re.IGNORECASE
)


def _sentence_findings(
    sentence: str, points: int, own_kind: str | None
) -> list[tuple[int | None, Outcome]] | None:
    """(point, outcome) pairs of one sentence, point None for the whole proposal; None when the
    sentence names an outcome but cannot be read safely. ``own_kind`` is the kind of body the
    header names ("hallitus"): a sentence whose subject is another body ("valtuusto hyväksyi")
    reports that body's decision, not this one's."""
    pairs: list[tuple[int | None, Outcome]] = []
    if not _outcomes(sentence):
        return pairs
    if _UNSAFE.search(sentence) or _OTHER_POINTS.search(sentence):
        return None
    kinds = {_kind(k) for k in _BODY_KIND.finditer(sentence)}
    if own_kind and kinds - {own_kind}:
        return None
    for clause in _clauses(sentence):
        outcomes = _outcomes(clause)
        named = _points(clause)
        if _POINT_WORD.search(_POINTS.sub(" ", clause)):
            return None  # "kohdat I–III", "kaksi ensimmäistä kohtaa": points it cannot read
        if not outcomes:
            if named:
                return None  # points with no outcome of their own
            continue
        if len(outcomes) > 1 or any(not 1 <= p <= points for p in named):
            return None
        outcome = outcomes[0]
        if named:
            listed = list(_POINTS.finditer(clause))
            qualifier = _QUALIFIER.search(clause, listed[-1].end())
            if qualifier and re.search(r",|\bja\b|\bsekä\b|\boch\b", listed[-1].group(0)):
                return None  # "kohdat 1–3 ja 4 muutettuna": does the change cover all, or 4 only?
            pairs.extend((p, outcome) for p in named)
        elif _OTHERWISE.search(clause):
            pairs.append((-1, outcome))  # "muilta osin": every point not named elsewhere
        elif _WHOLE.search(clause) and not _AS_PROPOSED.search(clause):
            pairs.append((None, outcome))
        elif _OFFICERS.search(clause) or _AS_PROPOSED.search(clause) or outcome in _APPROVALS:
            # The officer's proposal ("Ehdotus hyväksyttiin", "esityksen mukaisesti"): its points are
            # read instead, and only a plain approval (or one after a vote) of it is understood.
            if outcome not in (Outcome.hyvaksytty, Outcome.hyvaksytty_aanestys):
                return None
            pairs.append((_REFERS_BACK, outcome))
        else:
            pairs.append((None, outcome))  # "Jätettiin pöydälle."
    whole = [o for p, o in pairs if p in (None, _REFERS_BACK)]
    if whole and len(pairs) > 1:
        return None  # "hyväksyi esityksen ja palautti kohdan 4": which points the first covers is unsaid
    return pairs


def _decisions(
    part: str, points: int, duties_point: int | None, own_kind: str | None = None
) -> tuple[list[Found], list[str], tuple[Outcome, str] | None]:
    """Found decisions, sentences not understood, and the approval (with its sentence) when the
    part refers back to the officer's proposal instead ("Ehdotus hyväksyttiin.")."""
    by_point: dict[int, Found] = {}
    unclear: list[str] = []
    refers_back: tuple[Outcome, str] | None = None
    # The liaison may be named in a sentence of its own ("Järjestöyhdyshenkilöksi nimettiin …").
    liaison = _liaison(" ".join(part.split()))
    for sentence in _SENTENCE.split(" ".join(part.split())):
        pairs = _sentence_findings(sentence, points, own_kind)
        if pairs is None:
            unclear.append(sentence)
            continue
        for point, outcome in pairs:
            if point == _REFERS_BACK:
                refers_back = (outcome, sentence)
                continue
            targets = (
                range(1, points + 1)
                if point is None
                else [p for p in range(1, points + 1) if p not in by_point]
                if point == -1
                else [point]
            )
            for target in targets:
                if target in by_point and by_point[target].outcome != outcome:
                    unclear.append(sentence)  # two outcomes for one point: neither is trusted
                    by_point.pop(target)
                    continue
                by_point[target] = Found(
                    point=target,
                    outcome=outcome,
                    sentence=sentence,
                    liaison_name=liaison if target == duties_point and outcome in _APPROVALS else None,
                )
    if refers_back and by_point:
        unclear.append(refers_back[1])  # both its own points and "as proposed": not safe to combine
    return [by_point[p] for p in sorted(by_point)], list(dict.fromkeys(unclear)), refers_back


#: Lines whose date is not the meeting's: when the minutes were checked, sent, received, signed.
_NOT_MEETING = re.compile(
    r"tarkast|nähtävä|lähetet|saapu|kutsu|allekirj|laadittu|valmistel|kirjattu|justera|utskick|inkommen", re.I
)


def _capitalised(line: str) -> str:
    """ "KUNNANHALLITUS" as "Kunnanhallitus", so that an upper-case header reads like any other."""
    return re.sub(r"\b[A-ZÅÄÖ]{3,}\b", lambda m: m.group(0).capitalize(), line)


def _day(found: re.Match[str]) -> date | None:
    try:
        return date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    except ValueError:
        return None


def _header(text: str) -> tuple[date | None, int | None, str | None]:
    """Meeting date, section and deciding body from the lines before the proposal and decision.

    The header is the line with the section and the date ("Kunnanhallitus 12.05.2026 § 45",
    "Pöytäkirja 12.05.2026/Pykälä 45"); without a date there, a meeting line ("Kokous 12.5.2026")
    gives it. Two different headers (the committee's own § quoted, an earlier body's handling) or
    two different meeting dates: none is chosen (the item is not read)."""
    cut = min((m.start() for m in (_PROPOSAL.search(text), _DECISION.search(text)) if m), default=len(text))
    lines = [_capitalised(line) for line in (text[:cut] or text).splitlines()]
    headers: dict[tuple[date | None, int], str] = {}
    for line in lines:
        found = next((m for p in _SECTIONS if (m := p.search(line))), None)
        if found is None or _NOT_MEETING.search(line):
            continue
        days = {d for m in _DATE.finditer(line) if (d := _day(m))}
        if len(days) > 1:
            return None, None, None
        # a § on its own short line, or with a date, a body or a minutes keyword: a header, not a
        # law quoted in the text ("Kuntalain 39 § mukaan …")
        heading = re.match(r"[ \t]*(?:\S+[ \t]+)?(?:§[ \t]*\d|\d{1,5}[ \t]*§)", line)  # "§ 9 …", "Kh § 8 …"
        if (
            days
            or heading
            or len(line.strip()) <= 40
            or _BODY_NAME.search(line)
            or _MEETING_LINE.search(line.replace("§", ""))
        ):
            headers.setdefault((next(iter(days), None), int(found.group(1))), line)
    dated = {key for key in headers if key[0] is not None}
    if len(dated) > 1 or len({key[1] for key in headers}) > 1:
        return None, None, None
    key = next(iter(dated or headers), None)
    meeting, section = (key[0], key[1]) if key else (None, None)
    if meeting is None:
        days = {
            d
            for line in lines
            if _MEETING_LINE.search(line) and not _NOT_MEETING.search(line)
            for m in _DATE.finditer(line)
            if (d := _day(m))
        }
        if len(days) > 1:
            return None, None, None
        meeting = next(iter(days), None)
    where = headers.get(key) if key else None
    body = _BODY_NAME.search(where) if where else None
    if body is None and where is None:
        body = next(
            (m for line in lines if _MEETING_LINE.search(line) and (m := _BODY_NAME.search(line))), None
        )
    deciding = body.group(0).strip() if body else None
    return meeting, section, deciding[:1].upper() + deciding[1:] if deciding else None


def _normalised(text: str) -> str:
    """The text as a registry meant it: entities decoded, no-break spaces and dashes plain, words
    hyphenated at line ends (pdftotext keeps them) joined again."""
    text = html.unescape(text).replace("\u00a0", " ").replace("\u2011", "-")
    text = re.sub(r"[\u2012\u2013\u2014\u2015\u2212]", "–", text)
    text = re.sub(r"(\w)-[ \t]*\n[ \t]*([a-zåäö])", r"\1\2", text)
    return re.sub(r"(\d)\s*\.{2,3}\s*(\d)", r"\1–\2", text)


def read_item(text: str, *, points: int, duties_point: int | None) -> Reading:
    """Read one minutes extract or agenda item (plain text); see the module docstring."""
    text = _normalised(text)
    decisions = list(_DECISION.finditer(text))
    if len(decisions) > 1:
        # An item handled more than once (tabled, then decided; or by the board, then the
        # council): only the last handling is this item's decision, and it needs its own header.
        text = text[decisions[-2].end() :]
        meeting, section, deciding = _header(text)
        if meeting is None or section is None:
            return Reading(decided=True, not_understood=["asiaa on käsitelty useammin kuin kerran"])
    meeting, section, deciding = _header(text)
    reading = Reading(meeting_date=meeting, section=section, deciding_body=deciding)
    decision = _part(text, _DECISION)
    proposal = _part(text, _PROPOSAL)
    if decision is None:
        reading.agenda = proposal is not None or bool(_AGENDA.search(text))
        return reading
    reading.decided = True
    kind = _BODY_KIND.search(deciding or "")
    own = _kind(kind) if kind else None
    found, unclear, refers_back = _decisions(decision, points, duties_point, own)
    if refers_back is not None:
        # The decision is the officer's proposal as it stood: its points and liaison, with the
        # decision's kind of approval ("Ehdotus hyväksyttiin äänestyksen jälkeen" → after a vote).
        # A proposal that is missing, or that does not name our points, yields nothing.
        kind, said = refers_back
        proposed, proposal_unclear, nested = _decisions(proposal or "", points, duties_point, own)
        if not proposed or proposal_unclear or nested:
            unclear.append(f"{said} (päätösehdotuksesta ei löytynyt esityksen kohtia)")
        found = [
            Found(
                point=f.point,
                outcome=kind if f.outcome == Outcome.hyvaksytty else f.outcome,
                sentence=f"{said} ({f.sentence})",
                liaison_name=f.liaison_name,
            )
            for f in proposed
        ]
    # One sentence not understood may be about the same points as the clear ones: trust none.
    reading.found = [] if unclear else found
    reading.not_understood = unclear
    return reading


def _plain_text(text: str) -> str:
    return " ".join(re.sub(r"[^\w/.\-]+", " ", text.casefold()).split())


def concerns(
    text: str, *, title: str, short_title: str, numbers: tuple[str, ...], sender: str | None = None
) -> bool:
    """Whether an item is about our proposal: it quotes one of its case numbers (ours or the
    body's) as a whole token ("45/2026" is not in "145/2026"), or its short title or its title
    (case, punctuation and line breaks aside; the title's last word may be inflected:
    "yhteistyömallista"). With ``sender`` (an item found in a publication, which nothing else ties
    to us) a title counts only when the item also names the sender ("Forssan seudun …"), so a
    neighbouring region's item of the same name is not ours."""
    plain = f" {_plain_text(text)} "
    for number in numbers:
        wanted = _plain_text(number)
        if wanted and re.search(rf"(?<![\w/.\-]){re.escape(wanted)}(?![\w/\-]|\.\w)", plain):
            return True
    if sender:
        stem = _plain_text(sender).split(" ")[0][:6]
        if not (stem and re.search(rf"\b{re.escape(stem)}", plain)):
            return False
    for name in (short_title, title):
        wanted = _plain_text(name)
        if len(wanted) >= 12 and re.search(rf"(?<!\w){re.escape(wanted)}", plain):
            return True
    return False


#: A line that opens an item in a document of many: "§ 72", "72 §", "§ 72 Järjestöyhteistyö",
#: "Kh § 44 …", "Yhtymähallitus 12.05.2026 § 44".
_ITEM_START = re.compile(
    r"^[ \t]*(?:[A-ZÅÄÖ][\wåäöÅÄÖ.\-]*[ \t]+){0,3}(?:\d{1,2}\.\d{1,2}\.\d{4}[ \t]+)?"
    r"(?:§[ \t]*\d{1,5}|\d{1,5}[ \t]*§)(?![.\d:])(?=[ \t]*(?:$|[A-ZÅÄÖ]))",
    re.MULTILINE,
)


def items_of(text: str) -> list[str]:
    """A whole agenda or minutes (a PDF of the meeting) as its items, each with the document's
    header before it (the body and the meeting date); a text of one item is returned as it is. Only
    the item that names our proposal is then read, never another item's decision."""
    starts = [m.start() for m in _ITEM_START.finditer(text)]
    if len(starts) < 2:
        return [text]
    head = text[: starts[0]]
    ends = [*starts[1:], len(text)]
    return [head + text[start:end] for start, end in zip(starts, ends, strict=True)]
