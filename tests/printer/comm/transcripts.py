"""Reading the firmware transcripts of tests/transcripts/: what a firmware sent, and what each line should be.

Format, one item per line:

    # any comment
    > M105                      a line the host sent (context only; `T<n>` changes the current tool,
                                unless the firmware answers "Invalid extruder")
    < ok T:21.0 /0.0            a line the firmware sent, exactly as after `< ` (leading spaces kept)
    # expect: Ok temperatures='{"tool0": (21.0, 0.0)}'

An `# expect:` line annotates the `<` line just before it: a message type name, then `path=value`
pairs (shell quoting). A path walks attributes and dict keys (`fields.FIRMWARE_NAME`); a value is
compared as text to strings, by member name to enums, and as a Python literal to anything else.
The pseudo type `FileListEntry` (with name, size, timestamp, long_name) checks
`parse_file_list_entry` instead, for lines that only mean something between Begin and End file list.
"""
import ast
import enum
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parents[2] / "transcripts"
_TOOL_CHANGE = re.compile(r"(?:N\d+\s+)?T(\d+)(?:\s|\*|$)")


@dataclass
class Received:
    """One line the firmware sent, where it is in its transcript, and what it should classify as."""

    path: Path
    number: int
    text: str
    current_tool: int = 0
    expected_type: str | None = None
    expected: dict = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.number}"


def paths() -> list[Path]:
    return sorted(DIRECTORY.glob("*.txt"))


def load(path: Path) -> list[Received]:
    received, current_tool, previous_tool = [], 0, 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("< "):
            if "Invalid extruder" in line:  # the firmware kept the tool it had, and so does the host
                current_tool = previous_tool
            received.append(Received(path, number, line[2:], current_tool))
        elif line.startswith("> "):
            change = _TOOL_CHANGE.match(line[2:])
            if change:
                previous_tool, current_tool = current_tool, int(change.group(1))
        elif line.startswith("# expect:"):
            if not received or received[-1].expected_type is not None or received[-1].number != number - 1:
                raise ValueError(f"{path.name}:{number}: an expectation must follow a `<` line directly")
            words = shlex.split(line[len("# expect:"):])
            received[-1].expected_type = words[0]
            received[-1].expected = dict(word.split("=", 1) for word in words[1:])
        elif line.strip() and not line.startswith("#"):
            raise ValueError(f"{path.name}:{number}: not a transcript line: {line!r}")
    return received


def mismatches(received: Received, message) -> list[str]:
    """What differs between a classified message (or file list entry dict) and the expectation."""
    found = []
    for path, expected in received.expected.items():
        actual = message
        for part in path.split("."):
            actual = actual[part] if isinstance(actual, dict) else getattr(actual, part)
        if not _matches(actual, expected):
            found.append(f"{received.where}: {path} is {actual!r}, expected {expected}")
    return found


def _matches(actual, expected: str) -> bool:
    if isinstance(actual, enum.Enum):
        return actual.name == expected
    if isinstance(actual, str):
        return actual == expected
    return actual == ast.literal_eval(expected)
