"""Write dealreg/data/common_words.txt: the common English words, as a dictionary spells them in
lower case. A company named by one of them alone ("Discovery", "Phoenix", "Mercury", "Compass")
shares its name with many unrelated firms, as trademark law has it of arbitrary marks, where a
coined name ("Heineken", "Supercell") names one company (see docs/matching.md, "Weak names").

The source is SCOWL (Spell Checker Oriented Word Lists, Kevin Atkinson; a permissive licence,
quoted in the file's header) at size 35, the common words, as Debian ships it in the package
`wamerican-small`. Proper nouns are capitalised there ("Amazon", "Siemens", "Nokia") and are left
out; so are words with an apostrophe and words under three letters. Development only:

    apt-get download wamerican-small && dpkg -x wamerican-small_*.deb /tmp/scowl
    python3.11 tools/common_words.py /tmp/scowl/usr/share/dict/american-english-small > dealreg/data/common_words.txt
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = """\
# Common English words in lower case (SCOWL size 35, as Debian's wamerican-small 2020.12.07 ships
# it): a company named by one of them alone shares its name with unrelated firms. Written by
# tools/common_words.py; do not edit by hand.
#
# SCOWL is Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy, modify, distribute and
# sell these word lists, the associated scripts, the output created from the scripts, and its
# documentation for any purpose is hereby granted without fee, provided that the above copyright
# notice appears in all copies and that both that copyright notice and this permission notice
# appear in supporting documentation. Kevin Atkinson makes no representations about the
# suitability of this array for any purpose. It is provided "as is" without express or implied
# warranty. (Its sources at this size are the public-domain Moby Words II and the 12Dicts lists.)
"""


def main(path: str) -> None:
    words = sorted({w for line in Path(path).read_text(encoding="utf-8").splitlines()
                    if len(w := line.strip()) >= 3 and w.isascii() and w.isalpha() and w.islower()})
    sys.stdout.write(HEADER + "\n".join(words) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
