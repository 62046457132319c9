"""Text in: checks for synthesis input and the small English front end Piper needs.

Piper (through espeak-ng) misreads abbreviations and currency: "St." ends a sentence,
"$20" becomes "dollar twenty". Full text-normalisation grammars (NeMo's, pynini) are far
too heavy for a Space, and no small well-kept library expands English abbreviations, so
the expansions below are a short hand-written table; numbers are spelled by num2words.
"""

from __future__ import annotations

import re
import unicodedata

from num2words import num2words

from studio.errors import TextError
from studio.limits import Limits

_ABBREVIATIONS = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Dr.": "Doctor", "Prof.": "Professor",
    "Jr.": "Junior", "Sr.": "Senior", "Mt.": "Mount", "Ave.": "Avenue", "Rd.": "Road",
    "vs.": "versus", "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is",
    "Jan.": "January", "Feb.": "February", "Mar.": "March", "Apr.": "April", "Aug.": "August",
    "Sep.": "September", "Sept.": "September", "Oct.": "October", "Nov.": "November", "Dec.": "December",
}
_ABBREVIATION_RE = re.compile(r"(?<![\w.])(" + "|".join(re.escape(a) for a in _ABBREVIATIONS) + r")(?!\w)")
_SAINT_RE = re.compile(r"\bSt\.(?=\s+[A-Z])")  # "St. Louis" -> Saint
_STREET_RE = re.compile(r"\bSt\.")  # "Main St." -> Street
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents")}
_CURRENCY_RE = re.compile(r"([$£€])\s?(\d[\d,]*)(?:\.(\d{1,2}))?")
_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_PERCENT_RE = re.compile(r"(\d)\s?%")


def check_text(text: str, limits: Limits | None = None) -> str:
    """The text, NFC-normalised and stripped, or a `TextError` saying what is wrong with it."""
    limits = limits or Limits.from_env()
    text = unicodedata.normalize("NFC", text or "").strip()
    if not text:
        raise TextError("the text is empty; type a sentence to synthesise")
    if len(text) > limits.max_text_chars:
        raise TextError(
            f"the text is {len(text)} characters long; the limit is {limits.max_text_chars} "
            "(set STUDIO_MAX_TEXT_CHARS to change it, or split the text)"
        )
    symbols = sorted({ch for ch in text if unicodedata.category(ch) in ("So", "Cs", "Co") or 0xFE00 <= ord(ch) <= 0xFE0F})
    if symbols:
        raise TextError(f"the text contains emoji or pictographs ({' '.join(symbols)}) that no voice can speak; remove them")
    foreign = sorted({ch for ch in text if ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN")})
    if foreign:
        raise TextError(
            f"the text mixes in non-Latin letters ({''.join(foreign[:12])}); the bundled voices speak English only"
        )
    controls = {ch for ch in text if unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\n\t"}
    if controls:
        raise TextError(f"the text contains {len(controls)} invisible control character(s); paste it as plain text")
    return text


def spoken_form(text: str) -> str:
    """Expand abbreviations, currency, ordinals and percent signs into words for a TTS voice.

    >>> spoken_form("Meet Dr. Lee at 5th Ave. on Nov. 3; it costs $20.50.")
    'Meet Doctor Lee at fifth Avenue on November 3; it costs twenty dollars and fifty cents.'
    """
    text = _CURRENCY_RE.sub(_say_currency, text)
    text = _SAINT_RE.sub("Saint", text)
    text = _STREET_RE.sub("Street", text)
    text = _ABBREVIATION_RE.sub(lambda m: _ABBREVIATIONS[m.group(1)], text)
    text = _ORDINAL_RE.sub(lambda m: num2words(int(m.group(1)), to="ordinal"), text)
    return _PERCENT_RE.sub(r"\1 percent", text)


def _say_currency(match: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCY[match.group(1)]
    whole = int(match.group(2).replace(",", ""))
    cents = int((match.group(3) or "0").ljust(2, "0"))
    words = f"{num2words(whole)} {one if whole == 1 else many}"
    if cents:
        words += f" and {num2words(cents)} {sub_one if cents == 1 else sub_many}"
    return words


# A streamed first chunk this short is ready in under 100 ms with Piper joe on a 2-core CPU (bench/streaming_tts.py):
FIRST_CLAUSE_WORDS = 4  # a first clause up to this long is kept whole
FIRST_PHRASE_WORDS = 3  # otherwise the opening is cut to at most this many words
CLAUSE_END = (",", ";", ":", ".", "!", "?", "…", "—", "–")
# Words a phrase usually starts with: cutting just before one keeps a noun or verb group whole.
_PHRASE_STARTS = frozenset(
    "a an the this that these those my your our their his her its and or but so because if when while where "
    "which who whose than as at in on of to for from with without by between into onto over under about after "
    "before during through is are was were be been will would can could should may might must".split())


def split_first_phrase(text: str, clause_words: int = FIRST_CLAUSE_WORDS,
                       phrase_words: int = FIRST_PHRASE_WORDS) -> tuple[str, str]:
    """(first phrase, rest): a short opening a streaming voice can speak at once, and what follows.

    The opening is the first clause when it ends (at , ; : . ! ? or a dash) within `clause_words`
    words; otherwise it is cut before the last phrase-starting word (a preposition, article,
    conjunction or auxiliary) among words 3 to `phrase_words` + 1, or after `phrase_words` words
    when there is none. A text too short to gain from a cut comes back whole.

    >>> split_first_phrase("Welcome to Speech Studio, where models are measured side by side.")
    ('Welcome to Speech Studio,', 'where models are measured side by side.')
    >>> split_first_phrase("Can you hear the difference between these two voices?")
    ('Can you hear', 'the difference between these two voices?')
    >>> split_first_phrase("Hello there.")
    ('Hello there.', '')
    """
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    words = [text[start:end] for start, end in spans]
    if len(words) <= clause_words + 1:
        return text.strip(), ""
    cut = next((n + 1 for n, word in enumerate(words[:clause_words]) if word.endswith(CLAUSE_END)), None)
    if cut is None:
        starts = [n for n in range(2, phrase_words + 1) if words[n].lower().strip("\"'(“‘") in _PHRASE_STARTS]
        cut = starts[-1] if starts else phrase_words
    return text[:spans[cut - 1][1]].strip(), text[spans[cut][0]:].strip()  # the rest keeps its line breaks
