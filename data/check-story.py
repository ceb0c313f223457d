#!/usr/bin/env python3
"""check-story.py: check stories against the grammar of data/make-corpus.py.

A story (document) of that grammar is, with one hero NAME and one pet ANIMAL:
    "{hero} had a {adj} {pet}."                      (the opening)
    3 to 6 middle sentences of make-corpus.py's sentence()
    "At night {hero} and the {pet} went home."       (the closing)
with single spaces between the sentences. The lists of names, animals,
places, ... are copied here from make-corpus.py on purpose (a second,
independent statement of the grammar); tests/test-check-story.sh checks that
every document of data/corpus.txt, data/heldout.txt and data/test.txt passes.

JSON-lines protocol (the default): each line of stdin is one generation,
    {"id": N, "prompt": "...", "text": "...", "stop": "eot"|"max_tokens"|...}
("id" an integer, the others strings; other fields are ignored). The document
is prompt + text: the prompt may end mid-word or mid-sentence and is judged
too. For each input line, in order, one line on stdout:
    {"id": N, "violations": [{"kind": K, "where": "detail"}, ...]}
with an empty list when the story follows the rules; "where" is a short
detail, mostly the offending sentence (cut to 100 characters). Kinds:
    opening   the first sentence is not "{hero} had a {adj} {pet}."
    hero      a place that must name the hero ("{hero} gave", "said {hero}",
              "{hero} and the", "{hero} counted", "{hero} met", "{time},
              {hero} walked", "At night {hero}") names someone else than the
              opening ("met {NAME}" may name anyone)
    pet       a place that must name the pet names another animal
    count     "counted n X and then m" with m != n + 1, or n outside 2..8
    sentence  a sentence that is none of the grammar's (an unknown word, a
              value outside the grammar's lists, a wrong form, garbage, an
              opening in the middle), or whitespace other than one space
              between sentences (a newline, two spaces, none, a leading or a
              trailing one)
    length    an ended story (stop "eot", or the closing was written) with a
              number of middle sentences outside 3..6; a cut story only when
              it already has more than 6
    ending    stop "eot" without the closing as the last sentence; text after
              the closing; or a closing with another hero or pet (reported as
              "hero"/"pet" as well)
A stop other than "eot" ("max_tokens", "context_full", "max_actions",
"cancelled", ...) means the generation was cut: a missing closing is then no
violation, and the last, unfinished sentence is judged only in that its
complete words (those followed by a space) must begin some grammar sentence
(the opening, for the first one). A sentence ends at "." (or '."' for the
"Look," sentence); at the very end of a cut generation a final "..." that is
not a whole grammar sentence counts as unfinished.

Bad input (not UTF-8, not JSON, not an object, a missing or mistyped field)
prints "check-story.py: stdin:LINE: what is wrong" on stderr and exits 1.

    check-story.py --text FILE [--text FILE...]
checks plain corpus files instead (documents separated by blank lines, each
as prompt "" + text with stop "eot"): one line "FILE:LINE: kind: where" per
violation, then a summary per file (documents, violating documents, counts by
kind); exit 1 if any document violates a rule or a file cannot be read.

Standard library only."""
import argparse
import json
import re
import sys

PROG = "check-story.py"

NAMES = ["Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jade",
         "Kai", "Lena", "Milo", "Nora", "Otto", "Pia"]
ANIMALS = ["cat", "dog", "fox", "owl", "hen", "goat", "mouse", "frog", "bear", "duck"]
ADJ = ["small", "old", "brave", "quiet", "happy", "sleepy", "clever", "red", "tall",
       "shy", "busy", "grey"]
PLACES = ["the garden", "the river", "the old mill", "the market", "the forest",
          "the hill", "the barn", "the lake", "the bridge", "the kitchen"]
THINGS = ["a red ball", "a long rope", "a basket of apples", "a little boat",
          "a blue kite", "a loaf of bread", "a lost key", "a map", "a lantern",
          "a warm coat"]
TIMES = ["In the morning", "At noon", "In the evening", "One day", "After the rain",
         "Before dinner", "On Sunday", "Later"]
FEEL = ["glad", "tired", "surprised", "hungry", "proud", "curious"]
FOOD = ["bread", "apples", "soup", "cheese"]
COUNTED = ["stars", "stones", "birds", "boats"]

KINDS = ["opening", "hero", "pet", "count", "sentence", "length", "ending"]
MIN_MIDDLE, MAX_MIDDLE = 3, 6

# Slots: H must be the hero, P the pet; N and M are the counts.
NUM = object()
SLOTS = {"H": NAMES, "NAME": NAMES, "P": ANIMALS, "ADJ": ADJ, "PLACE": PLACES,
         "THING": THINGS, "TIME": TIMES, "FEEL": FEEL, "FOOD": FOOD,
         "COUNTED": COUNTED, "N": NUM, "M": NUM}

# The sentence forms: literal text and slot names.
TEMPLATES = {
    "opening": ["H", " had a ", "ADJ", " ", "P", "."],
    "walked": ["TIME", ", ", "H", " walked to ", "PLACE", "."],
    "found": ["The ", "ADJ", " ", "P", " found ", "THING", " near ", "PLACE", "."],
    "gave": ["H", " gave the ", "P", " ", "THING", "."],
    "look": ['"Look," said ', "H", ', "the ', "P", " is ", "FEEL", '."'],
    "sat": ["They sat by ", "PLACE", " and ate ", "FOOD", "."],
    "were": ["H", " and the ", "P", " were ", "FEEL", "."],
    "counted": ["H", " counted ", "N", " ", "COUNTED", " and then ", "M", "."],
    "ran": ["The ", "P", " ran after ", "THING", ", but it rolled into ", "PLACE", "."],
    "met": ["H", " met ", "NAME", " at ", "PLACE", "."],
    "closing": ["At night ", "H", " and the ", "P", " went home."],
}
OPENING = ["opening"]
NOT_FIRST = [t for t in TEMPLATES if t != "opening"]


def _compile():
    """One regex for all forms; group "t_NAME" tells the form, "NAME_SLOT" a value."""
    alts = []
    for name, parts in TEMPLATES.items():
        rx = []
        for part in parts:
            if part not in SLOTS:
                rx.append(re.escape(part))
            elif SLOTS[part] is NUM:
                rx.append(f"(?P<{name}_{part}>0|[1-9][0-9]*)")
            else:
                alt = "|".join(re.escape(v) for v in sorted(SLOTS[part], key=len, reverse=True))
                rx.append(f"(?P<{name}_{part}>{alt})")
        alts.append(f"(?P<t_{name}>{''.join(rx)})")
    return re.compile("|".join(alts))


SENTENCE_RE = _compile()
# A malformed opening may still say who the hero and the pet are.
LOOSE_OPENING_RE = re.compile(r"(?P<H>[A-Z][a-z]*) (?:had|has) an? (?:.* )?(?P<P>[a-z]+)\.")
DIGITS_RE = re.compile(r"[0-9]+")
SPACES_RE = re.compile(r"\s*")


def parse(sentence):
    """(form, {slot: value}) of a whole grammar sentence, or (None, None)."""
    m = SENTENCE_RE.fullmatch(sentence)
    if m is None:
        return None, None
    form = m.lastgroup[2:]
    values = {}
    for part in TEMPLATES[form]:
        if part in SLOTS:
            values[part] = m.group(f"{form}_{part}")
    return form, values


def _prefix(parts, i, s, pos):
    """Whether s[pos:] begins some expansion of parts[i:]."""
    if pos == len(s):
        return True
    if i == len(parts):
        return False
    part = parts[i]
    if part not in SLOTS:
        alts = [part]
    elif SLOTS[part] is NUM:
        m = DIGITS_RE.match(s, pos)
        if m is None:
            return False
        return m.end() == len(s) or _prefix(parts, i + 1, s, m.end())
    else:
        alts = SLOTS[part]
    rest = len(s) - pos
    for a in alts:
        if rest <= len(a):
            if a.startswith(s[pos:]):
                return True
        elif s.startswith(a, pos) and _prefix(parts, i + 1, s, pos + len(a)):
            return True
    return False


def is_prefix(s, forms):
    """Whether s begins a sentence of one of the forms."""
    return any(_prefix(TEMPLATES[f], 0, s, 0) for f in forms)


def short(s, n=100):
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n - 3] + "..."


def split(doc, cut):
    """Sentences of doc: a list of (sentence, separator after it), and the
    unfinished rest (None when there is none)."""
    out = []
    pos, n = 0, len(doc)
    while pos < n:
        j = doc.find(".", pos)
        if j < 0:
            return out, doc[pos:]
        end = j + 1
        if end < n and doc[end] == '"':
            end += 1
        sep = SPACES_RE.match(doc, end).group()
        if cut and end + len(sep) == n and not sep and SENTENCE_RE.fullmatch(doc, pos, end) is None:
            return out, doc[pos:]       # "...glad." of a cut '..glad."'
        out.append((doc[pos:end], sep))
        pos = end + len(sep)
    return out, None


def check(doc, stop):
    """The violations of one document: a list of (kind, where)."""
    v = []
    cut = stop != "eot"
    lead = SPACES_RE.match(doc).group()
    if lead:
        v.append(("sentence", "whitespace before the first sentence"))
    sentences, rest = split(doc[len(lead):], cut)
    hero = pet = None
    middle = 0
    closed = False
    for idx, (s, sep) in enumerate(sentences):
        if closed:
            v.append(("ending", "after the closing: " + short(s)))
            rest = None
            break
        if idx == len(sentences) - 1 and rest is None:
            sep_ok = sep == "" or (cut and sep == " ")
        else:
            sep_ok = sep == " "
        if not sep_ok:
            v.append(("sentence", "separator %s after: %s" % (json.dumps(sep), short(s))))
        form, val = parse(s)
        if idx == 0:
            if form == "opening":
                hero, pet = val["H"], val["P"]
                continue
            v.append(("opening", short(s)))
            m = LOOSE_OPENING_RE.fullmatch(s)
            if m is not None:
                hero = m.group("H") if m.group("H") in NAMES else None
                pet = m.group("P") if m.group("P") in ANIMALS else None
            if form is None:
                continue
        elif form is None or form == "opening":
            v.append(("sentence", short(s)))
            middle += 1
            continue
        h, p = val.get("H"), val.get("P")
        if h is not None:
            if hero is None:
                hero = h
            elif h != hero:
                v.append(("hero", short(s)))
        if p is not None:
            if pet is None:
                pet = p
            elif p != pet:
                v.append(("pet", short(s)))
        if form == "counted":
            n, m = int(val["N"]), int(val["M"])
            if not 2 <= n <= 8 or m != n + 1:
                v.append(("count", short(s)))
        if idx == 0:
            continue
        if form == "closing":
            closed = True
            if (h, p) != (hero, pet):
                v.append(("ending", "the closing names another hero or pet: " + short(s)))
        else:
            middle += 1
    if rest is not None:
        if closed:
            v.append(("ending", "after the closing: " + short(rest)))
        elif not cut:
            # eot inside a sentence: it is an unfinished one.
            v.append(("opening" if not sentences else "sentence", short(rest)))
        else:
            words = rest[:rest.rfind(" ") + 1]
            if not sentences:
                if not is_prefix(words, OPENING):
                    v.append(("opening", short(rest)))
            elif not is_prefix(words, NOT_FIRST):
                v.append(("sentence", short(rest)))
    if not sentences and rest is None and not cut:
        v.append(("opening", "no sentence"))
    if closed or not cut:
        if not MIN_MIDDLE <= middle <= MAX_MIDDLE:
            v.append(("length", "%d middle sentences" % middle))
    elif middle > MAX_MIDDLE:
        v.append(("length", "%d middle sentences and no closing yet" % middle))
    if not cut and not closed:
        last = rest if rest is not None else sentences[-1][0] if sentences else ""
        v.append(("ending", "no closing sentence at the end" +
                  (": " + short(last) if last else "")))
    return v


def die(msg):
    sys.stderr.write(f"{PROG}: {msg}\n")
    sys.exit(1)


def run_json():
    out = sys.stdout
    for lineno, raw in enumerate(sys.stdin.buffer, 1):
        where = f"stdin:{lineno}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            die(f"{where}: not UTF-8 ({e.reason} at byte {e.start})")
        if not line.strip():
            die(f"{where}: an empty line, expected a JSON object")
        try:
            obj = json.loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as e:
            die(f"{where}: not JSON ({e.msg} at column {e.colno})")
        if not isinstance(obj, dict):
            die(f"{where}: not a JSON object")
        for field in ("id", "prompt", "text", "stop"):
            if field not in obj:
                die(f'{where}: no "{field}" field')
        if not isinstance(obj["id"], int) or isinstance(obj["id"], bool):
            die(f'{where}: "id" is not an integer')
        for field in ("prompt", "text", "stop"):
            if not isinstance(obj[field], str):
                die(f'{where}: "{field}" is not a string')
        v = check(obj["prompt"] + obj["text"], obj["stop"])
        out.write(json.dumps({"id": obj["id"],
                              "violations": [{"kind": k, "where": w} for k, w in v]}) + "\n")
        out.flush()
    return 0


def documents(text):
    """(first line number, document) of a corpus: blank lines separate them."""
    doc, start = [], 0
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if line.strip():
            if not doc:
                start = lineno
            doc.append(line)
        elif doc:
            yield start, "\n".join(doc)
            doc = []
    if doc:
        yield start, "\n".join(doc)


def run_text(paths):
    status = 0
    for path in paths:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            sys.stderr.write(f"{PROG}: {path}: {e}\n")
            status = 1
            continue
        ndocs = nbad = 0
        counts = dict.fromkeys(KINDS, 0)
        for lineno, doc in documents(text):
            ndocs += 1
            v = check(doc, "eot")
            if v:
                nbad += 1
            for kind, where in v:
                counts[kind] += 1
                print(f"{path}:{lineno}: {kind}: {where}")
        print(f"{path}: documents: {ndocs}")
        print(f"{path}: violating documents: {nbad}")
        print(f"{path}: violations: " + ", ".join(f"{k} {counts[k]}" for k in KINDS))
        if nbad or not ndocs:
            status = 1
    return status


def main():
    ap = argparse.ArgumentParser(
        prog=PROG,
        description="Check stories against the grammar of data/make-corpus.py: JSON "
        "lines on stdin ({id, prompt, text, stop}) -> {id, violations} lines on "
        "stdout, or plain corpus files with --text.")
    ap.add_argument("--text", metavar="FILE", action="append",
                    help="check a corpus file (documents separated by blank lines) and "
                    "print a summary; exit 1 if any document violates a rule")
    args = ap.parse_args()
    if args.text:
        return run_text(args.text)
    return run_json()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
