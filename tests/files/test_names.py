"""Sanitising names and checking client paths: what becomes of a name, what a path may never do."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from octoserve.errors import Invalid
from octoserve.files import names


@pytest.mark.parametrize("given_name, expected", [
    ("cube.gcode", "cube.gcode"),
    ("My Part.gcode", "My_Part.gcode"),
    ("über straße.gcode", "uber_strasse.gcode"),
    ("日本", "-"),
    ("a&b?c.gcode", "a-b-c.gcode"),
    ("(1) [draft] v~2.gco", "(1)_[draft]_v~2.gco"),
    (".hidden.g", "hidden.g"),
    ("...dots.gcode", "dots.gcode"),
    ("  spaced  .gcode", "__spaced__.gcode"),
    ("日本.gcode", "-.gcode"),  # OctoPrint transliterates; without a table the stem becomes "-"
    ("-lead&.g", "-lead-.g"),
])
def test_sanitize_name(given_name, expected):
    assert names.sanitize_name(given_name) == expected


@pytest.mark.parametrize("bad", ["", ".", "..", "a/b.gcode", "a\\b.gcode", "nul\0.gcode", "x" * 300, "...", "\u0301"])
def test_unsanitizable_names_are_refused(bad):
    with pytest.raises(Invalid):
        names.sanitize_name(bad)


@given(st.text(max_size=40))
def test_a_sanitized_name_is_safe_and_stable(text):
    try:
        result = names.sanitize_name(text)
    except Invalid:
        return
    assert result and result not in (".", "..") and not result.startswith(".")
    assert "/" not in result and "\\" not in result and "\0" not in result
    assert result.isascii()
    assert names.sanitize_name(result) == result


@pytest.mark.parametrize("text, parts", [
    ("", ()), (None, ()), ("a", ("a",)), ("a/b/c.gcode", ("a", "b", "c.gcode")), ("folder/", ("folder",)),
])
def test_split_client_path(text, parts):
    assert names.split_client_path(text) == parts


@pytest.mark.parametrize("bad", [
    "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "..", ".", "a\\..\\b", "a\0b", 5,
])
def test_escaping_paths_are_refused(bad):
    with pytest.raises(Invalid):
        names.split_client_path(bad)


@pytest.mark.parametrize("text, expected", [
    ("a/b.gcode", ("a", "b.gcode")),
    ("My Part.gcode", None),  # not in sanitised form: OctoPrint answers 404
    ("%2e%2e/x.gcode", None),
    ("", None),
    ("../x.gcode", None),
    (".upload-1234.part", None),  # hidden spools can never be addressed
])
def test_canonical_path(text, expected):
    assert names.canonical_path(text) == expected


def test_machinecode_extensions():
    assert all(names.is_machinecode(n) for n in ("a.gcode", "a.GCO", "a.g"))
    assert not any(names.is_machinecode(n) for n in ("a.stl", "a", "gcode", "a.gcode.txt"))
