"""Manifest files -> rows: YAML/JSON syntax problems and the documents they hold, with positions.

Pure functions of text (no commands, no network); :func:`read_tree` is the
only one that reads the disk. Used by the ``config-syntax`` runbook
(:mod:`k8srun.checks.configsyntax`).

Positions are 1-based ``line`` and ``column`` (characters, a tab counts as
one), as editors, ``yamllint`` and :class:`json.JSONDecodeError` give them.

**Syntax** (:func:`parse`):

- YAML (multi-document included) is composed with LibYAML (PyYAML's C
  binding; go-yaml, what kubectl decodes with, is a port of LibYAML). A file
  LibYAML refuses is linted with ``yamllint`` (a maintained linter on
  PyYAML's scanner) for the message and position of the first syntax error
  (the parser cannot go on after it, so one per file); a file whose node
  tree names a key twice in one mapping is linted for every duplicate's
  position (yamllint's ``key-duplicates``). Its cosmetic rules (indentation
  width, line length, truthy, document-start) stay off: style, not what
  stops ``kubectl apply``. So a clean folder costs one C parse per file. A
  tab where indentation is expected (``found character '\\t' that cannot
  start any token``) is named ``tab-indentation``; other parser messages get
  a plain hint (:func:`syntax_hint`); a control character YAML does not
  allow is a syntax problem at its position; a constructor error yamllint
  does not see (``{{ .Values.x }}`` read as a mapping key: "found unhashable
  key") is one too. Inside an unclosed quote or bracket the hint names where
  it was opened (PyYAML's context mark); when the parser only notices at the
  end of the file, the problem is shown at that opening.
- JSON is read with :mod:`json`: the first error's line/column from
  :class:`json.JSONDecodeError`, except that a *trailing comma* (``,``
  before ``}``/``]``, which the decoder reports at the bracket) is reported
  at the comma itself — the character to delete (Python 3.13 does the same).
  Duplicate keys in JSON (legal to the decoder, last one wins, rejected by
  the API server's strict decoding) are ``duplicate-key`` problems too.
- A file that is not UTF-8 text (NUL bytes, undecodable) or is larger than
  ``max_bytes`` is skipped with the reason, never parsed.

**Documents** (:func:`parse`): each YAML document (or the JSON value) as
``Document(index, data, marks, line)``: ``data`` the value as the API
server's decoder would see it (keys as strings, YAML 1.1 scalars as
``sigs.k8s.io/yaml`` reads them, timestamps kept as strings, unknown
``!tags`` ignored), ``marks`` maps each JSON path (tuple of keys and list
indices) to ``(key_line, key_column, value_line, value_column)`` taken from
the composed YAML node tree (JSON is composed the same way, tabs counted as
one character), never guessed. Alias expansion is bounded
(:data:`MAX_NODES` nodes per document); a recursive alias or a nesting too
deep to walk ends the file with a ``too-complex`` problem.

**Files** (:func:`read_tree`): a file, or every ``*.yaml``/``*.yml``/``*.json``
under a folder (recursively, sorted, hidden folders and folder symlinks not
entered), at most ``max_files``; rows of :data:`FILE_COLUMNS`.

Problem rows (:data:`PROBLEM_COLUMNS`): file, line, column, problem
(``syntax``, ``tab-indentation``, ``duplicate-key``, ``too-complex``),
message, hint, source (the offending line), context (the line before).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from .errors import ManifestTooComplex as TooComplex  # the old name stays importable

PROBLEM_COLUMNS = ["file", "line", "column", "problem", "message", "hint", "source", "context"]
FILE_COLUMNS = ["file", "format", "bytes", "documents", "status"]
SUFFIXES = (".yaml", ".yml", ".json")
#: the API server refuses request bodies over 3 MiB: a bigger file is not one manifest
MAX_FILE_BYTES = 3 * 2**20
MAX_FILES = 10_000
#: nodes walked per document (an alias "billion laughs" expands past any real manifest)
MAX_NODES = 200_000
#: characters of a source line kept for display
LINE_CHARS = 240

_LINT_CONFIG = YamlLintConfig("rules:\n  key-duplicates: enable\n")
_TAB = "found character '\\t' that cannot start any token"


@dataclass
class Document:
    """One YAML document / the JSON value of a file, with the position of every path."""

    index: int
    data: Any
    marks: dict[tuple, tuple[int, int, int, int]] = field(default_factory=dict)
    #: line of the document's first node
    line: int = 1
    #: whether a mapping of it names a key twice (then yamllint says where)
    repeats_a_key: bool = False

    def position(self, path: tuple, *, key: bool = True) -> tuple[int, int]:
        """(line, column) of ``path`` (its key, or its value), else of its nearest ancestor."""
        path = tuple(path)
        while path and path not in self.marks:
            path = path[:-1]
        if not path:
            return self.marks.get((), (self.line, 1, self.line, 1))[2:]
        mark = self.marks[path]
        return mark[:2] if key else mark[2:]


@dataclass
class Parsed:
    """What :func:`parse` found in one file."""

    file: str
    format: str
    problems: list[dict]
    documents: list[Document]


@dataclass
class ManifestFile:
    """One file found by :func:`read_tree`: its text, or why it was not read."""

    file: str
    path: Path
    bytes: int
    text: str | None = None
    skipped: str = ""


# ------------------------------------------------------------------ files

def file_format(name: str, text: str = "") -> str:
    """``json`` for ``*.json`` (or, without a known suffix, text starting with ``{``/``[``), else ``yaml``."""
    lower = name.lower()
    if lower.endswith(".json"):
        return "json"
    if not lower.endswith((".yaml", ".yml")) and text.lstrip()[:1] in ("{", "["):
        return "json"
    return "yaml"


def decode(data: bytes) -> str | None:
    """UTF-8 text (a BOM dropped), or None for binary data (NUL bytes, not UTF-8)."""
    if b"\0" in data[:65536]:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def _walk_folder(root: Path) -> Iterator[Path]:
    try:
        children = sorted(root.iterdir(), key=lambda p: p.name)
    except OSError:
        return
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_dir():
            if not child.is_symlink():
                yield from _walk_folder(child)
        elif child.suffix.lower() in SUFFIXES:
            yield child


def read_tree(root: Path | str, *, max_files: int = MAX_FILES,
              max_bytes: int = MAX_FILE_BYTES) -> tuple[list[ManifestFile], int]:
    """The manifest files of ``root`` (a file or a folder) and how many more were left unread.

    ``file`` is the path relative to ``root`` (the file's name when ``root``
    is a file). Binary, unreadable and oversized files come back with
    ``skipped`` set and no text.
    """
    root = Path(root)
    paths = [root] if root.is_file() else list(_walk_folder(root))
    left = max(0, len(paths) - max_files)
    found = []
    for path in paths[:max_files]:
        shown = path.name if path == root else path.relative_to(root).as_posix()
        try:
            size = path.stat().st_size
            if size > max_bytes:
                found.append(ManifestFile(shown, path, size, skipped=f"larger than {max_bytes} bytes "
                                          "(the API server's request limit is 3 MiB); not read"))
                continue
            text = decode(path.read_bytes())
        except OSError as exc:
            found.append(ManifestFile(shown, path, 0, skipped=f"unreadable: {exc.strerror or exc}"))
            continue
        if text is None:
            found.append(ManifestFile(shown, path, size, skipped="binary: not UTF-8 text; not read"))
        else:
            found.append(ManifestFile(shown, path, size, text=text))
    return found, left


def helm_template(file: ManifestFile, root: Path | str) -> bool:
    """Whether ``file`` sits in a Helm chart's ``templates/`` folder (a ``Chart.yaml`` above it)."""
    root = Path(root)
    parent = file.path.parent
    while parent != root.parent and parent != parent.parent:
        if parent.name == "templates" and (parent.parent / "Chart.yaml").is_file():
            return True
        if parent == root:
            break
        parent = parent.parent
    return False


# ------------------------------------------------------------------ syntax

def _line_text(lines: list[str], line: int) -> str:
    return lines[line - 1][:LINE_CHARS] if 0 < line <= len(lines) else ""


def problem(file: str, lines: list[str], line: int, column: int, kind: str, message: str,
            hint: str = "") -> dict:
    """One problem row (see :data:`PROBLEM_COLUMNS`)."""
    return {"file": file, "line": line, "column": column, "problem": kind, "message": message, "hint": hint,
            "source": _line_text(lines, line), "context": _line_text(lines, line - 1)}


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _previous_content_line(lines: list[str], line: int) -> int:
    for number in range(line - 1, 0, -1):
        text = lines[number - 1]
        if text.strip() and not text.lstrip().startswith("#"):
            return number
    return 0


def syntax_hint(message: str, lines: list[str], line: int) -> str:
    """A plain-language reading of a YAML parser message at ``line``."""
    if _TAB in message:
        return "a tab is used for indentation: YAML indents with spaces only"
    here = _line_text(lines, line)
    before = _previous_content_line(lines, line)
    said = ""
    if before:
        said = (f" (line {line} is indented {_indent(here)} spaces, line {before} "
                f"{_indent(lines[before - 1])})")
    if "mapping values are not allowed here" in message:
        if before and _indent(here) > _indent(lines[before - 1]) and not lines[before - 1].rstrip().endswith(":"):
            return "this line is indented deeper than the key above it, which already has a value" + said
        return ("a 'key: value' where none can start: a mis-indented line, or a value holding ': ' "
                "that needs quotes")
    if "expected <block end>" in message or "did not find expected key" in message:
        return "the indentation of this line does not match the block it belongs to" + said
    if "could not find expected ':'" in message:
        return "a key without ':' (or a multi-line plain value): check the line above"
    if "found undefined alias" in message:
        return "an *alias without its &anchor"
    if "expected the node content" in message or "end of the stream" in message:
        return "the file ends inside an open value: an unclosed quote or bracket"
    if "found unexpected end of stream" in message or "while scanning a quoted scalar" in message:
        return "an unclosed quote"
    if "expected ',' or ']'" in message or "expected ',' or '}'" in message:
        return "a flow list/map ([...] or {...}) is not closed, or lacks a comma"
    return ""


_OPENED = {"while scanning a quoted scalar": "quoted string", "while parsing a flow sequence": "flow list [",
           "while parsing a flow mapping": "flow mapping {", "while scanning a block scalar": "block scalar"}


def _opened_at(text: str) -> tuple[str, int, int] | None:
    """(what, line, column) of the quote/bracket a parser error is inside, from PyYAML's context mark."""
    try:
        for _ in yaml.parse(text, Loader=yaml.SafeLoader):
            pass
    except yaml.MarkedYAMLError as exc:
        what = _OPENED.get(exc.context or "")
        if what and exc.context_mark is not None:
            return what, exc.context_mark.line + 1, exc.context_mark.column + 1
    except (yaml.YAMLError, RecursionError):
        pass
    return None


def _lint(file: str, text: str, lines: list[str]) -> list[dict]:
    try:
        return _lint_problems(file, text, lines)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (yamllint does not catch it)
        line, column = _offset_position(text, exc.position)
        return [problem(file, lines, line, column, "syntax",
                        f"character #x{exc.character:04x} is not allowed in YAML" if isinstance(exc.character, int)
                        else str(exc).splitlines()[0], "a control character (binary data, a bad copy-paste?)")]


def _lint_problems(file: str, text: str, lines: list[str]) -> list[dict]:
    found = []
    for lint in linter.run(text, _LINT_CONFIG):
        if lint.rule is None:  # yamllint's syntax check: the parser's own message
            message = lint.desc.removeprefix("syntax error: ").removesuffix(" (syntax)")
            kind = "tab-indentation" if _TAB in message else "syntax"
            if kind == "tab-indentation":
                message = "tab character used for indentation"
            line, column, hint = lint.line, lint.column, syntax_hint(lint.desc, lines, lint.line)
            opened = _opened_at(text)
            if opened:
                what, open_line, open_column = opened
                hint = f"{hint + '; ' if hint else ''}the {what} opened at line {open_line}, column {open_column}"
                if line > len(lines):  # the end of the file: show where it was opened instead
                    line, column = open_line, open_column
                    message += f" (the {what} opened here is never closed)"
            found.append(problem(file, lines, line, column, kind, message, hint))
        elif lint.rule == "key-duplicates":
            key = re.search(r'"(.*)"', lint.desc)
            found.append(problem(file, lines, lint.line, lint.column, "duplicate-key",
                                 f"duplicate key {key.group(1) if key else ''!r} in the same mapping".replace(
                                     "duplicate key '' ", "duplicate key "),
                                 "the API server rejects it (strict decoding); otherwise the last one wins"))
    return found


# ---------------------------------------------------------------- loading

class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # LibYAML: what go-yaml (kubectl) is a port of
    """SafeLoader reading as ``sigs.k8s.io/yaml`` does: timestamps stay strings, unknown tags are ignored."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def _plain(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("!", _plain)
_Loader.add_multi_constructor("tag:", _plain)
_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def key_text(key: Any) -> str:
    """A mapping key as the JSON key the API server sees (``true``, ``null``, ``8080``)."""
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, (list, dict, tuple)):
        return json.dumps(key, default=str, sort_keys=True)
    return str(key)


def _scalar_json(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        import base64

        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, (set, frozenset)):
        return sorted(key_text(v) for v in value)
    return value


def _walk(node: yaml.Node, value: Any, path: tuple, marks: dict, budget: list[int], active: set[int]) -> Any:
    """``value`` with string keys, and the marks of every path under ``node`` (bounded, cycle-safe)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise TooComplex(f"more than {MAX_NODES} nodes (an alias expanding without end?)")
    if id(node) in active:
        raise TooComplex("a recursive alias (an anchor used inside itself)")
    if len(path) > 200:
        raise TooComplex("nested more than 200 levels deep")
    if isinstance(node, yaml.MappingNode) and isinstance(value, dict):
        active.add(id(node))
        out = {}
        by_key = {}
        for key_node, value_node in node.value:
            by_key[key_text(_key_value(key_node))] = (key_node, value_node)  # the last one wins
        for key, item in value.items():
            text = key_text(key)
            key_node, value_node = by_key.get(text, (None, None))
            if key_node is None:
                out[text] = item
                continue
            here = path + (text,)
            marks[here] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1,
                           value_node.start_mark.line + 1, value_node.start_mark.column + 1)
            out[text] = _walk(value_node, item, here, marks, budget, active)
        active.discard(id(node))
        return out
    if isinstance(node, yaml.SequenceNode) and isinstance(value, list):
        active.add(id(node))
        out_list = []
        for index, (item_node, item) in enumerate(zip(node.value, value)):
            here = path + (index,)
            marks[here] = (item_node.start_mark.line + 1, item_node.start_mark.column + 1,
                           item_node.start_mark.line + 1, item_node.start_mark.column + 1)
            out_list.append(_walk(item_node, item, here, marks, budget, active))
        active.discard(id(node))
        return out_list
    return _scalar_json(value)


_KEY_LOADER = _Loader("")


def _key_value(node: yaml.Node) -> Any:
    """A key node's value as the constructor reads it (``on`` -> True, ``8080`` -> 8080); never raises."""
    if not isinstance(node, yaml.ScalarNode):
        return "<complex key>"
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    construct = _Loader.yaml_constructors.get(node.tag)
    try:
        return construct(_KEY_LOADER, node) if construct else node.value
    except (yaml.YAMLError, ValueError, TypeError):
        return node.value


def documents(text: str) -> list[Document]:
    """Every document of ``text`` (YAML or JSON) with its marks; yaml.YAMLError / TooComplex when it cannot."""
    loader = _Loader(text)
    found = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            repeats = _repeats_a_key(node)
            data = loader.construct_document(node)
            marks: dict = {(): (node.start_mark.line + 1, node.start_mark.column + 1,
                                node.start_mark.line + 1, node.start_mark.column + 1)}
            value = _walk(node, data, (), marks, [MAX_NODES], set())
            found.append(Document(len(found), value, marks, node.start_mark.line + 1, repeats))
    finally:
        loader.dispose()
    return found


def _yaml_error_position(exc: yaml.YAMLError) -> tuple[int, int]:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def _load_documents(file: str, text: str, lines: list[str], problems: list[dict]) -> list[Document]:
    try:
        return documents(text)
    except yaml.YAMLError as exc:  # constructor errors yamllint does not see (an unhashable key)
        line, column = _yaml_error_position(exc)
        message = (str(getattr(exc, "problem", "") or exc).splitlines() or ["unreadable"])[0]
        if "maximum nesting depth" in message:
            problems.append(problem(file, lines, 1, 1, "too-complex", f"not read: {message}"))
            return []
        problems.append(problem(file, lines, line, column, "syntax", message,
                                "a key that is itself a mapping or list (an unquoted '{{ }}' template?)"
                                if "unhashable" in message else syntax_hint(message, lines, line)))
    except (TooComplex, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, TooComplex) else "nested too deeply to read"
        problems.append(problem(file, lines, 1, 1, "too-complex", f"not read: {reason}"))
    return []


# ------------------------------------------------------------------ JSON

def _json_duplicates(pairs: list[tuple[str, Any]], found: list[str]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            found.append(key)
        seen[key] = value
    return seen


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _json_error(file: str, text: str, lines: list[str], exc: json.JSONDecodeError) -> dict:
    before = len(text[:exc.pos].rstrip())
    at = text[exc.pos:exc.pos + 1]
    if before and text[before - 1] == "," and at in ("}", "]"):
        line, column = _offset_position(text, before - 1)
        closing = "object" if at == "}" else "array"
        return problem(file, lines, line, column, "syntax", f"trailing comma before the end of the {closing}",
                       f"JSON allows no comma after the last item: delete this ',' (the decoder stopped at "
                       f"line {exc.lineno} column {exc.colno})")
    hint = ""
    if exc.msg.startswith("Expecting property name enclosed in double quotes"):
        hint = "JSON keys need double quotes (no single quotes, no bare words)"
    elif exc.msg.startswith("Invalid control character"):
        hint = "a raw tab or newline inside a string: write it as \\t or \\n"
    elif exc.msg.startswith("Extra data"):
        hint = "more than one JSON value in the file (a missing ',' or '[...]'?)"
    return problem(file, lines, exc.lineno, exc.colno, "syntax", exc.msg, hint)


def _parse_json(file: str, text: str, lines: list[str]) -> Parsed:
    duplicates: list[str] = []
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _json_duplicates(pairs, duplicates))
    except json.JSONDecodeError as exc:
        return Parsed(file, "json", [_json_error(file, text, lines, exc)], [])
    except RecursionError:
        return Parsed(file, "json", [problem(file, lines, 1, 1, "too-complex", "not read: nested too deeply")], [])
    problems: list[dict] = []
    as_yaml = text.replace("\t", " ")  # JSON allows tabs between tokens, YAML does not; positions unchanged
    if duplicates:
        problems += [p for p in _lint(file, as_yaml, lines) if p["problem"] == "duplicate-key"]
    try:
        docs = documents(as_yaml)
        if len(docs) == 1:
            docs[0].data = data  # the JSON decoder's reading of the values, YAML's marks
            return Parsed(file, "json", problems, docs)
    except (yaml.YAMLError, TooComplex, RecursionError):
        pass
    return Parsed(file, "json", problems, [Document(0, data, {}, 1)])  # valid JSON that YAML cannot mark


# ------------------------------------------------------------------ entry

def _repeats_a_key(root: yaml.Node) -> bool:
    """Whether a mapping under ``root`` names a scalar key twice (before merge keys are flattened)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
            if len(keys) != len(set(keys)):
                return True
            stack += [v for _, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    return False


def parse(file: str, text: str, fmt: str | None = None) -> Parsed:
    """Syntax problems and documents of one file's text (see the module doc); never raises on any text.

    YAML is composed with LibYAML first (fast; the parser go-yaml, kubectl's, is a port of); yamllint
    is asked only about a file LibYAML refuses (for its message and position) or whose node tree
    repeats a key (for each duplicate's position), so a clean folder costs one C parse per file.
    """
    fmt = fmt or file_format(file, text)
    lines = text.splitlines()
    if fmt == "json":
        return _parse_json(file, text, lines)
    problems: list[dict] = []
    try:
        docs = documents(text)
    except yaml.YAMLError as exc:
        try:
            problems = _lint(file, text, lines)
        except RecursionError:
            problems = [problem(file, lines, 1, 1, "too-complex", "not read: nested too deeply")]
        if not any(p["problem"] in ("syntax", "tab-indentation", "too-complex") for p in problems):
            docs = _load_documents(file, text, lines, problems)  # LibYAML's own message (yamllint accepts it)
            if not problems:  # cannot happen: documents() just failed
                line, column = _yaml_error_position(exc)
                problems.append(problem(file, lines, line, column, "syntax", str(exc).splitlines()[0]))
        return Parsed(file, "yaml", problems, [])
    except (TooComplex, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, TooComplex) else "nested too deeply to read"
        return Parsed(file, "yaml", [problem(file, lines, 1, 1, "too-complex", f"not read: {reason}")], [])
    if any(d.repeats_a_key for d in docs):
        problems = [p for p in _lint(file, text, lines) if p["problem"] == "duplicate-key"]
    return Parsed(file, "yaml", problems, docs)


def excerpt(row: dict, note: str = "") -> str:
    """``file:line:column``, the line before, the offending line and a caret under the column.

    Tabs show as ``→`` (one character, so the caret stays under its column).
    """
    line, column = int(row["line"]), int(row["column"])
    width = len(str(line))
    out = [f"{row['file']}:{line}:{column}"]
    if row.get("context") and line > 1:
        out.append(f"{line - 1:>{width}} | {row['context'].replace(chr(9), '→')}")
    out.append(f"{line:>{width}} | {row.get('source', '').replace(chr(9), '→')}")
    out.append(f"{'':>{width}} | {' ' * max(0, column - 1)}^ {note}".rstrip())
    return "\n".join(out)


__all__ = ["Document", "FILE_COLUMNS", "ManifestFile", "PROBLEM_COLUMNS", "Parsed", "TooComplex", "documents",
           "excerpt", "file_format", "helm_template", "key_text", "parse", "read_tree", "syntax_hint"]
