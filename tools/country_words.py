"""Write dealreg/data/country_words.txt: the names of countries and world regions as company names
carry them ("Heineken UK Limited", "Nestlé Deutschland AG", "Canon Europa N.V.").

The source is the Unicode CLDR, through Babel's copy of it (BSD licence; CLDR data under the
Unicode licence): each country's name in English and in its official languages, each world
region's name in English and the main languages of Europe, and the ISO 3166 two-letter codes.
Development only:

    python3.11 -m venv /tmp/babel && /tmp/babel/bin/pip install babel==2.18.0
    /tmp/babel/bin/python tools/country_words.py > dealreg/data/country_words.txt

Names are written as dealreg.names.name_key tokenises them (lower case, no accents), so this
script runs with the repository on its path.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel import Locale, __version__
from babel.languages import get_official_languages

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dealreg.names import _words  # noqa: E402  (the tokeniser, before any legal form is stripped)

REGION_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "sv", "da", "nb", "fi")
REGIONS = ("002", "009", "019", "142", "150", "151", "154", "155", "039", "419", "021", "003", "005", "030",
           "034", "035", "145", "053", "EU")
"""Africa, Oceania, the Americas, Asia, Europe and its parts, Latin America, North and South America,
East, South, Southeast and West Asia, Australasia, the European Union."""
EXTRA_CODES = ("uk", "usa", "uae")
"""Short forms in everyday use beside the ISO codes (CLDR's "alt short" names, which Babel omits)."""


def phrase(name: str) -> str:
    return " ".join(w for w in _words(name) if w != "and")


def main() -> None:
    english = Locale("en")
    names: dict[str, str] = {}  # phrase -> the code of the country or region it names
    codes: set[str] = set(EXTRA_CODES)
    for code, name in english.territories.items():
        if len(code) != 2 or not code.isalpha() or code in ("ZZ", "XA", "XB", "EZ", "UN", "QO"):
            continue
        codes.add(code.lower())
        names.setdefault(phrase(name), code.lower())
        for language in get_official_languages(code, de_facto=True):
            try:
                local = Locale.parse(language).territories.get(code)
            except Exception:  # a language CLDR has no locale data for
                continue
            if local:
                names.setdefault(phrase(local), code.lower())
    for code in REGIONS:
        for language in REGION_LANGUAGES:
            local = Locale.parse(language).territories.get(code)
            if local:
                names.setdefault(phrase(local), code.lower())
    names.pop("", None)
    print("# Names of countries and world regions, and ISO 3166 country codes, as dealreg.names")
    print("# tokenises them: what a national company adds to its group's name (\"Heineken UK Limited\",")
    print("# \"Nestle Deutschland AG\", \"Canon Europa N.V.\"). Written by tools/country_words.py from the")
    print(f"# Unicode CLDR as Babel {__version__} ships it (each country in English and its official")
    print("# languages, world regions in English and twelve European languages). Do not edit by hand:")
    print("# re-run the script. Each name is followed by \" = \" and the code of what it names (the same")
    print("# country in two languages: \"brasil = br\", \"brazil = br\"). A line starting with \"=\" is a code,")
    print("# a country word only as the last word of a name.")
    for name in sorted(names):
        print(f"{name} = {names[name]}")
    for code in sorted(codes):
        print(f"={code}")


if __name__ == "__main__":
    main()
