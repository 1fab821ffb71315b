"""Markup in `input`: SSML (an input that starts with `<speak`) and Kokoro-FastAPI's inline tags, turned into
parts to speak, each with its voice, its rate and the silence after it.

Inline tags: `[pause:1.5s]` always; `[voice:name]` (a voice, a blend or an alias: it speaks what follows) and
`[rate:0.8]` (times the speaker's own rate, until the next voice tag) when the request allows voice tags.

SSML is parsed by defusedxml (expat with DTDs, entity declarations and external references refused). Supported:
<speak>, <p>, <s>, <break time|strength>, <prosody rate>, <voice name> (with voice tags allowed),
<phoneme alphabet="ipa" ph>, <say-as interpret-as>, <sub alias>. Anything else, or malformed markup, is a 400
that names the element. `to_tags` writes parts back as inline tags (POST /dev/ssml)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree
from defusedxml import DefusedXmlException

from frontend.errors import InvalidRequest
from frontend.reading import normalize
from kokoro_core.contract import MAX_SPEED, MIN_SPEED

MAX_PAUSE_S = 10.0
MAX_DEPTH = 16
BREAK_STRENGTHS = {"none": 0.0, "x-weak": 0.1, "weak": 0.25, "medium": 0.5, "strong": 0.75, "x-strong": 1.0}
RATE_NAMES = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "default": 1.0, "fast": 1.25, "x-fast": 1.5}
DURATION = re.compile(r"\s*(\d{1,5}(?:\.\d{1,3})?)\s*(ms|s)\s*")
RATE = re.compile(r"\s*([+-]?\d{1,3}(?:\.\d{1,3})?)\s*(%?)\s*")
INLINE_TAG = re.compile(r"\[(?P<kind>pause|voice|rate):(?P<value>[^\]]{0,200})\]", re.IGNORECASE)
VOICE_TAGS_OFF = ("inline voice and rate tags need `allow_voice_tags: true` (Kokoro-FastAPI's switch); without it, "
                  "send one request per voice, and <prosody rate> in SSML for a rate")
SAY_AS = {"characters", "spell-out", "cardinal", "ordinal", "date", "time", "telephone"}
ATTRIBUTES = {"speak": set(), "p": set(), "s": set(), "break": {"time", "strength"}, "prosody": {"rate"},
              "phoneme": {"alphabet", "ph"}, "say-as": {"interpret-as", "format", "detail"}, "sub": {"alias"},
    "voice": {"name"}}
IGNORED_ATTRIBUTES = {"version", "lang", "base", "id"}  # <speak version xml:lang> and the like carry nothing here


@dataclass
class Part:
    """Text to speak (possibly with `[word](/phonemes/)` overrides) by `voice` (as named; None: the request's
    voice) at `rate` times the request's speed (and the voice's own rate), then `pause_s` seconds of silence."""
    text: str
    rate: float = 1.0
    pause_s: float = 0.0
    voice: str | None = None


def parse(text: str, voice_tags: bool = False, as_ssml: bool = False) -> list[Part]:
    """The parts of an input: SSML when it starts with `<speak` (or an XML declaration or DOCTYPE, which the
    parser then refuses), else text with inline tags. `voice_tags`: the request allows `[voice:]`, `[rate:]` and
    SSML's <voice>; `as_ssml`: Kokoro-FastAPI's `ssml` flag, the input must be SSML."""
    if as_ssml and not voice_tags:
        raise InvalidRequest("`ssml` needs `allow_voice_tags` (as in Kokoro-FastAPI: SSML may switch voices)", "ssml",
                             "unsupported_tag")
    if as_ssml and not is_ssml(text):
        raise invalid("`ssml` is true but the input is not SSML: it must start with <speak>")
    if is_ssml(text):
        return _SsmlReader(voice_tags).read(text)
    parts, position, voice, rate = [], 0, None, 1.0
    for match in INLINE_TAG.finditer(text):
        kind, value = match.group("kind").lower(), match.group("value")
        if kind != "pause" and not voice_tags:
            raise InvalidRequest(f"{match.group(0)}: {VOICE_TAGS_OFF}", "input", "unsupported_tag")
        pause_s = pause_seconds(value, "[pause]") if kind == "pause" else 0.0
        parts.append(Part(text[position:match.start()], rate, pause_s, voice))
        if kind == "voice":
            voice, rate = voice_name(value), 1.0
        elif kind == "rate":
            rate = tag_rate(value)
        position = match.end()
    return [*parts, Part(text[position:], rate, voice=voice)]


def voice_name(written: str) -> str:
    name = written.strip()
    if not name:
        raise InvalidRequest("[voice:] names no voice", "input", "unsupported_tag")
    return name


def tag_rate(written: str) -> float:
    try:
        rate = float(written)
    except ValueError:
        rate = float("nan")
    if not MIN_SPEED <= rate <= MAX_SPEED:
        raise InvalidRequest(f"[rate:{written}] is not a rate from {MIN_SPEED:g} to {MAX_SPEED:g}", "input",
                             "invalid_rate")
    return rate


def to_tags(parts: list[Part], default_voice: str) -> str:
    """Parts as the inline tag language that `parse` reads back into the same speech (POST /dev/ssml): the
    request's voice named where a <voice> element ends."""
    written, voice, rate = [], None, 1.0
    for part in parts:
        if part.voice != voice:
            voice, rate = part.voice, 1.0
            written.append(f"[voice:{voice or default_voice}]")
        if part.rate != rate:
            written.append(f"[rate:{part.rate:g}]")
            rate = part.rate
        written += [part.text] if part.text else []
        written += [f"[pause:{part.pause_s:g}s]"] if part.pause_s else []
    return " ".join(written)


def is_ssml(text: str) -> bool:
    return text.lstrip().startswith(("<speak", "<?xml", "<!DOCTYPE"))


def pause_seconds(written: str, element: str) -> float:
    match = DURATION.fullmatch(written)
    if not match:
        raise invalid(f"{element}: pause '{written}' is not a duration such as 1.5s or 500ms")
    seconds = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
    if seconds > MAX_PAUSE_S:
        raise invalid(f"{element}: pause of {seconds:g} s is longer than {MAX_PAUSE_S:g} s")
    return seconds


def invalid(message: str) -> InvalidRequest:
    return InvalidRequest(message, "input", "invalid_ssml")


class _SsmlReader:
    """Walks the element tree, collecting text into the current part; a break, a sentence or paragraph edge
    or a change of rate starts a new one."""

    def __init__(self, voice_tags: bool):
        self.voice_tags = voice_tags
        self.parts: list[Part] = []
        self.pending: list[str] = []
        self.voice: str | None = None  # who speaks the pending text

    def read(self, text: str) -> list[Part]:
        root = parse_xml(text)
        if local_name(root) != "speak":
            raise invalid(f"SSML must have <speak> as its root element, not <{local_name(root)}>")
        self.element(root, rate=1.0, depth=0)
        self.flush(1.0)
        return self.parts

    def flush(self, rate: float, pause_s: float = 0.0) -> None:
        text = " ".join(" ".join(self.pending).split())
        self.pending = []
        if text or pause_s:
            self.parts.append(Part(text, rate, pause_s, self.voice))

    def element(self, node: Element, rate: float, depth: int) -> None:
        name = local_name(node)
        check_attributes(node, name)
        if depth > MAX_DEPTH:
            raise invalid(f"<{name}> is nested more than {MAX_DEPTH} elements deep")
        if name == "break":
            self.pause(node, rate)
        elif name == "voice":
            self.speaker(node, rate, depth)
        elif name in ("speak", "p", "s", "prosody"):
            inner_rate = min(max(rate * prosody_rate(node), MIN_SPEED), MAX_SPEED) if name == "prosody" else rate
            if name != "speak" or inner_rate != rate:
                self.flush(rate)
            self.children(node, inner_rate, depth)
            self.flush(inner_rate)
        else:
            if len(node):
                raise invalid(f"<{name}> may hold only text, not <{local_name(node[0])}>")
            self.text(leaf_text(node, name))

    def children(self, node: Element, rate: float, depth: int) -> None:
        self.text(node.text)
        for child in node:
            self.element(child, rate, depth + 1)
            self.text(child.tail)

    def speaker(self, node: Element, rate: float, depth: int) -> None:
        """<voice name>: its content spoken by that voice, at the rate around it (the voice's own rate applies)."""
        if not self.voice_tags:
            raise InvalidRequest(f"<voice>: {VOICE_TAGS_OFF}", "input", "unsupported_tag")
        outer = self.voice
        self.flush(rate)
        self.voice = voice_name(node.get("name", ""))
        self.children(node, rate, depth)
        self.flush(rate)
        self.voice = outer

    def text(self, content: str | None) -> None:
        if content and content.strip():
            self.pending.append(content)

    def pause(self, node: Element, rate: float) -> None:
        if len(node) or (node.text or "").strip():
            raise invalid("<break> must be empty")
        strength = node.get("strength")
        if strength is not None and strength not in BREAK_STRENGTHS:
            raise invalid(f"<break> strength '{strength}' is not one of {', '.join(BREAK_STRENGTHS)}")
        time = node.get("time")
        seconds = pause_seconds(time, "<break>") if time is not None else BREAK_STRENGTHS[strength or "medium"]
        if self.parts and not self.pending:  # two breaks in a row: one longer silence
            self.parts[-1].pause_s = min(self.parts[-1].pause_s + seconds, MAX_PAUSE_S)
        else:
            self.flush(rate, seconds)


def parse_xml(text: str) -> Element:
    try:
        return defusedxml.ElementTree.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise invalid(f"SSML may not declare a DTD or entities ({type(e).__name__})") from None
    except ParseError as e:
        raise invalid(f"SSML is malformed: {e}{element_near(text, e.position)}") from None


def element_near(text: str, position: tuple[int, int]) -> str:
    """' (in <name>)': the last element opened before where the parser stopped, to point at the problem."""
    line, column = position
    lines = text.splitlines(keepends=True)
    offset = sum(len(previous) for previous in lines[:line - 1]) + column
    opened = re.findall(r"<\s*([\w:.-]{1,40})", text[:offset + 1])
    return f" (in <{opened[-1]}>)" if opened else ""


def local_name(node: Element) -> str:
    return node.tag.rsplit("}", 1)[-1] if isinstance(node.tag, str) else "?"


def check_attributes(node: Element, name: str) -> None:
    if name not in ATTRIBUTES:
        raise invalid(f"SSML element <{name}> is not supported (supported: {', '.join(f'<{n}>' for n in ATTRIBUTES)})")
    for attribute in node.attrib:
        local = attribute.rsplit("}", 1)[-1]
        if local not in ATTRIBUTES[name] and local not in IGNORED_ATTRIBUTES:
            raise invalid(f"<{name}> has no attribute '{local}'")


def prosody_rate(node: Element) -> float:
    written = node.get("rate", "medium").strip()
    if written in RATE_NAMES:
        return RATE_NAMES[written]
    match = RATE.fullmatch(written)
    if not match:
        raise invalid(f"<prosody> rate '{written}' is not x-slow..x-fast, a percentage or a number")
    value = float(match.group(1))
    relative = match.group(2) == "%" and written.lstrip()[:1] in "+-"
    rate = 1 + value / 100 if relative else value / 100 if match.group(2) else value
    if not MIN_SPEED <= rate <= MAX_SPEED:
        raise invalid(f"<prosody> rate '{written}' is outside 25% to 400%")
    return rate


def leaf_text(node: Element, name: str) -> str:
    """What <phoneme>, <say-as> and <sub> stand for, as text the rest of the pipeline reads."""
    content = (node.text or "").strip()
    if name == "sub":
        alias = node.get("alias")
        if alias is None:
            raise invalid("<sub> needs an alias")
        return alias
    if name == "phoneme":
        return phoneme_override(node, content)
    return say_as(node.get("interpret-as"), content)


def phoneme_override(node: Element, content: str) -> str:
    if node.get("alphabet", "ipa") != "ipa":
        raise invalid(f"<phoneme> alphabet '{node.get('alphabet')}' is not supported (only ipa)")
    phonemes = (node.get("ph") or "").strip()
    if not (0 < len(phonemes) <= 300 and 0 < len(content) <= 100) or re.search(r"[\[\]()/]", phonemes + content):
        raise invalid("<phoneme> needs up to 100 characters of text and a ph of up to 300 symbols, without brackets "
                      "or slashes")
    return f"[{content}](/{phonemes}/)"


def say_as(kind: str | None, content: str) -> str:
    if kind not in SAY_AS:
        raise invalid(f"<say-as> interpret-as '{kind}' is not one of {', '.join(sorted(SAY_AS))}")
    if kind in ("characters", "spell-out"):
        return " ".join(normalize.DIGIT_WORDS[int(c)] if c.isdigit() else c for c in content if not c.isspace())
    if kind == "telephone":
        return ", ".join(normalize.digits(group) for group in re.findall(r"\d+", content)) or content
    if kind in ("cardinal", "ordinal"):
        number = content.replace(",", "")
        if not re.fullmatch(r"-?\d{1,15}", number):
            raise invalid(f"<say-as> {kind} '{content[:40]}' is not a whole number")
        spoken = normalize.cardinal(abs(int(number))) if kind == "cardinal" else normalize.ordinal(abs(int(number)))
        return ("minus " if number.startswith("-") else "") + spoken
    return normalize.normalize(content)  # dates and times: the normalizer reads them
