"""What a label does with a recipient's character no label font can draw: a lead's choice."""

from __future__ import annotations

from enum import StrEnum


class LabelText(StrEnum):
    """Chosen per order by a lead when its label cannot draw the recipient as written."""

    #: Each undrawable character is written in Latin letters (anyascii): 'ᏣᎳᎩ' → 'TsaLaGi'.
    TRANSLITERATE = "transliterate"
    #: Each undrawable character is printed as a blank '_', to be written in by hand.
    HAND_WRITE = "hand_write"

    @property
    def words(self) -> str:
        if self is LabelText.TRANSLITERATE:
            return "written in Latin letters"
        return "printed with blanks to write in by hand"
