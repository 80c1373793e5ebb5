"""The measured results of the GAN benchmarks, as the chapters print them: one section of ``QUALITY.md``
(the file beside this one, shipped with the package). Chapters 10, 12, 13 and 14 end with theirs."""

from __future__ import annotations

from pathlib import Path

QUALITY_MD = Path(__file__).with_name("QUALITY.md")


def section(heading: str) -> str:
    """The section of QUALITY.md whose "## " heading starts with ``heading``, up to the next "## " one;
    "" if there is none."""
    text = QUALITY_MD.read_text()
    start = text.find("\n## " + heading)
    if start < 0:
        return ""
    end = text.find("\n## ", start + 1)
    return text[start + 1 : end if end >= 0 else len(text)].rstrip() + "\n"
