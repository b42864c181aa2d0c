"""Read ``plsql/install.txt`` and split the Oracle scripts it lists into executable statements.

``sms-bridge db install`` runs the Oracle objects through python-oracledb, which executes one
statement per call: no SQL*Plus, so no SQL*Plus script syntax. Every file under ``plsql/``
therefore follows one convention, which ``tests/plsql`` checks against a real Oracle parser:

- a SQL statement (CREATE TABLE, CREATE INDEX, CREATE VIEW, MERGE, COMMIT, ...) ends with ``;``
  at the end of a line (white space or a ``--`` comment may follow on that line);
- a PL/SQL unit -- ``CREATE [OR REPLACE] [EDITIONABLE | NONEDITIONABLE]`` followed by PACKAGE
  [BODY], PROCEDURE, FUNCTION, TRIGGER, TYPE [BODY] or LIBRARY, or an anonymous block starting
  with DECLARE or BEGIN -- ends with a line holding only ``/``;
- there are no SQL*Plus commands (SET, PROMPT, SPOOL, ``@``, ...).

The statements returned lose a SQL statement's trailing ``;`` (Oracle rejects it as ORA-00933 or
ORA-00911 when sent through a driver) but keep a PL/SQL unit's (its ``END name;`` is part of the
unit), and never include the ``/`` line. Comments and blank lines between statements are
dropped; comments inside a statement are kept. Quotes (``'...'``, ``q'[...]'``, ``"..."``) and
comments are read as such, so a ``;`` or ``/`` inside them never ends a statement.

Anything that breaks the convention raises :class:`ScriptError` naming the source and line,
rather than sending Oracle a half statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path, PurePosixPath

from bridge.errors import BridgeError

INSTALL_MANIFEST = "install.txt"

# CREATE [OR REPLACE] [EDITIONABLE|NONEDITIONABLE] <one of these> starts a PL/SQL unit.
PLSQL_UNIT_KINDS = frozenset({"PACKAGE", "PROCEDURE", "FUNCTION", "TRIGGER", "TYPE", "LIBRARY"})
# Words that start an anonymous PL/SQL block.
PLSQL_BLOCK_STARTS = frozenset({"DECLARE", "BEGIN"})
# SQL*Plus (and SQLcl) commands: python-oracledb cannot run them, so a script holding one would
# fail half-way through an install. SET is one only when no SQL statement starts with it
# (SET TRANSACTION, SET ROLE, SET CONSTRAINT[S] are SQL).
SQLPLUS_COMMANDS = frozenset(
    {
        "ACCEPT", "APPEND", "ARCHIVE", "ATTRIBUTE", "BREAK", "BTITLE", "CLEAR", "COLUMN",
        "COMPUTE", "CONN", "CONNECT", "COPY", "DEFINE", "DEL", "DESC", "DESCRIBE",
        "DISCONNECT", "EXEC", "EXECUTE", "EXIT", "GET", "HOST", "INPUT", "PASSWORD", "PAUSE",
        "PRINT", "PROMPT", "QUIT", "RECOVER", "REM", "REMARK", "REPFOOTER", "REPHEADER", "RUN",
        "SAVE", "SET", "SHO", "SHOW", "SHUTDOWN", "SPO", "SPOOL", "START", "STARTUP", "STORE",
        "TIMING", "TTITLE", "UNDEFINE", "VAR", "VARIABLE", "WHENEVER",
    }
)  # fmt: skip
SQL_SET_STATEMENTS = frozenset({"TRANSACTION", "ROLE", "CONSTRAINT", "CONSTRAINTS"})
SQLPLUS_PREFIXES = ("@", "!", "$")

# q'X...X' quoting: these opening delimiters close with their partner, any other with itself.
_Q_CLOSERS = {"[": "]", "{": "}", "(": ")", "<": ">"}
_WORD_CHARS = re.compile(r"[\w$#]+")


class ScriptError(BridgeError):
    """An install script or install.txt breaks the convention; the message names file and line."""


@dataclass(frozen=True)
class Statement:
    """One statement ready for ``cursor.execute``."""

    text: str
    line: int  # 1-based line of the script where it starts
    plsql: bool  # a PL/SQL unit (ended by '/'), as opposed to a SQL statement (ended by ';')


class _Kind(Enum):
    SPACE = "space"  # white space without a line break
    NEWLINE = "newline"
    COMMENT = "comment"
    QUOTED = "quoted"  # a string literal or a quoted identifier
    WORD = "word"
    SEMICOLON = "semicolon"
    SLASH = "slash"
    OTHER = "other"


@dataclass(frozen=True)
class _Token:
    kind: _Kind
    start: int
    end: int
    line: int


def install_files(plsql_dir: Path) -> list[Path]:
    """The files ``plsql_dir/install.txt`` lists, in order, each checked to exist.

    One path per line, relative to ``plsql_dir`` and written with ``/``; ``#`` starts a comment;
    blank lines are ignored. A missing file, a path leaving ``plsql_dir`` or a file listed twice
    raises :class:`ScriptError` naming install.txt and the line.
    """
    manifest = plsql_dir / INSTALL_MANIFEST
    try:
        lines = manifest.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ScriptError(f"{manifest}: the install manifest does not exist") from None
    files: list[Path] = []
    listed_on: dict[PurePosixPath, int] = {}
    for number, raw in enumerate(lines, start=1):
        entry = raw.split("#", 1)[0].strip()
        if not entry:
            continue
        relative = PurePosixPath(entry)
        where = f"{manifest}:{number}"
        if relative.is_absolute() or ".." in relative.parts or "\\" in entry:
            raise ScriptError(f"{where}: {entry!r} must be a relative path inside {plsql_dir}")
        if relative in listed_on:
            raise ScriptError(f"{where}: {entry} is already listed on line {listed_on[relative]}")
        path = plsql_dir.joinpath(*relative.parts)
        if not path.is_file():
            raise ScriptError(f"{where}: {entry} does not exist (looked for {path})")
        listed_on[relative] = number
        files.append(path)
    return files


def split_statements(text: str, source: str = "<script>") -> list[str]:
    """The statements of an install script, ready for ``cursor.execute``, in order."""
    return [statement.text for statement in split_script(text, source)]


def split_script(text: str, source: str = "<script>") -> list[Statement]:
    """Like :func:`split_statements`, with each statement's line and kind (for messages)."""
    tokens = list(_tokenize(text, source))
    statements: list[Statement] = []
    start: _Token | None = None  # first token of the statement being read
    plsql = False
    for index, token in enumerate(tokens):
        if token.kind is _Kind.SLASH and _alone_on_line(tokens, index):
            if start is None:
                # SQL*Plus would run the previous statement a second time.
                raise ScriptError(
                    f"{source}:{token.line}: '/' line without a PL/SQL unit before it"
                )
            if not plsql:
                raise ScriptError(
                    f"{source}:{token.line}: '/' line ends a SQL statement (line {start.line});"
                    " end SQL statements with ';' and use '/' only after PL/SQL units"
                )
            body = text[start.start : token.start].rstrip()
            statements.append(Statement(body, start.line, plsql=True))
            start = None
            continue
        if start is None:
            if token.kind in (_Kind.SPACE, _Kind.NEWLINE, _Kind.COMMENT):
                continue
            if token.kind is _Kind.SEMICOLON:
                raise ScriptError(f"{source}:{token.line}: ';' without a statement before it")
            plsql = _starts_plsql(text, tokens, index, source)
            start = token
            continue
        if token.kind is _Kind.SEMICOLON and not plsql:
            if not _ends_line(tokens, index):
                raise ScriptError(
                    f"{source}:{token.line}: ';' must end its line"
                    " (one statement per line end; nothing but a comment may follow it)"
                )
            body = text[start.start : token.start].rstrip()
            statements.append(Statement(body, start.line, plsql=False))
            start = None
    if start is not None:
        ending = "a line holding only '/'" if plsql else "';' at the end of a line"
        kind = "PL/SQL unit" if plsql else "SQL statement"
        raise ScriptError(
            f"{source}:{start.line}: the {kind} starting here does not end with {ending}"
        )
    return statements


def _starts_plsql(text: str, tokens: list[_Token], index: int, source: str) -> bool:
    """Whether the statement starting at tokens[index] is a PL/SQL unit; reject SQL*Plus."""
    first = tokens[index]
    first_text = text[first.start : first.end]
    if first_text.startswith(SQLPLUS_PREFIXES):
        raise ScriptError(f"{source}:{first.line}: SQL*Plus command {first_text!r} in a script")
    words = [w.upper() for w in _leading_words(text, tokens, index, 5)]
    if not words:
        return False
    if words[0] in SQLPLUS_COMMANDS and not (
        words[0] == "SET" and len(words) > 1 and words[1] in SQL_SET_STATEMENTS
    ):
        raise ScriptError(f"{source}:{first.line}: SQL*Plus command {words[0]} in a script")
    if words[0] in PLSQL_BLOCK_STARTS:
        return True
    if words[0] != "CREATE":
        return False
    rest = words[1:]
    if rest[:2] == ["OR", "REPLACE"]:
        rest = rest[2:]
    if rest[:1] in (["EDITIONABLE"], ["NONEDITIONABLE"]):
        rest = rest[1:]
    return bool(rest) and rest[0] in PLSQL_UNIT_KINDS


def _leading_words(text: str, tokens: list[_Token], index: int, count: int) -> list[str]:
    """Up to `count` words from tokens[index] on, skipping white space and comments."""
    words: list[str] = []
    for token in tokens[index:]:
        if token.kind in (_Kind.SPACE, _Kind.NEWLINE, _Kind.COMMENT):
            continue
        if token.kind is not _Kind.WORD:
            break
        words.append(text[token.start : token.end])
        if len(words) == count:
            break
    return words


def _alone_on_line(tokens: list[_Token], index: int) -> bool:
    """tokens[index] is the only token of its line but white space."""
    before = index - 1
    while before >= 0 and tokens[before].kind is _Kind.SPACE:
        before -= 1
    if before >= 0 and tokens[before].kind is not _Kind.NEWLINE:
        return False
    after = index + 1
    while after < len(tokens) and tokens[after].kind is _Kind.SPACE:
        after += 1
    return after == len(tokens) or tokens[after].kind is _Kind.NEWLINE


def _ends_line(tokens: list[_Token], index: int) -> bool:
    """Only white space and comments follow tokens[index] up to the next line break."""
    after = index + 1
    while after < len(tokens) and tokens[after].kind in (_Kind.SPACE, _Kind.COMMENT):
        after += 1
    return after == len(tokens) or tokens[after].kind is _Kind.NEWLINE


def _tokenize(text: str, source: str) -> Iterator[_Token]:
    """Lossless tokens: joined in order they give back `text`."""
    position, line, length = 0, 1, len(text)
    while position < length:
        char = text[position]
        start, start_line = position, line
        if char == "\n":
            kind, position = _Kind.NEWLINE, position + 1
            line += 1
        elif char.isspace():
            kind = _Kind.SPACE
            while position < length and text[position] != "\n" and text[position].isspace():
                position += 1
        elif text.startswith("--", position):
            kind = _Kind.COMMENT
            end = text.find("\n", position)
            position = length if end < 0 else end
        elif text.startswith("/*", position):
            kind = _Kind.COMMENT
            end = text.find("*/", position + 2)
            if end < 0:
                raise ScriptError(f"{source}:{line}: comment '/*' is never closed")
            position = end + 2
        elif char == "'" or _q_quote_at(text, position):
            kind = _Kind.QUOTED
            position = _end_of_quote(text, position, source, line)
        elif char == '"':
            kind = _Kind.QUOTED
            end = text.find('"', position + 1)
            if end < 0:
                raise ScriptError(f"{source}:{line}: quoted identifier is never closed")
            position = end + 1
        elif char == ";":
            kind, position = _Kind.SEMICOLON, position + 1
        elif char == "/":
            kind, position = _Kind.SLASH, position + 1
        elif (match := _WORD_CHARS.match(text, position)) is not None:
            kind, position = _Kind.WORD, match.end()
        else:
            kind, position = _Kind.OTHER, position + 1
        if kind in (_Kind.QUOTED, _Kind.COMMENT):
            line += text.count("\n", start, position)
        yield _Token(kind, start, position, start_line)


def _q_quote_at(text: str, position: int) -> bool:
    """An alternative-quoted literal (q'[...]', nq'{...}') starts here, not inside a word."""
    if position > 0 and _WORD_CHARS.match(text, position - 1):
        return False
    prefix = text[position : position + 3].lower()
    return prefix.startswith("q'") or prefix.startswith("nq'")


def _end_of_quote(text: str, position: int, source: str, line: int) -> int:
    """The index just after the string literal starting at `position`."""
    quote = text.find("'", position)
    if quote > position:  # q'X...X' or nq'X...X'
        if quote + 1 >= len(text):
            raise ScriptError(f"{source}:{line}: q-quoted literal is never closed")
        opener = text[quote + 1]
        closer = _Q_CLOSERS.get(opener, opener) + "'"
        end = text.find(closer, quote + 2)
        if end < 0:
            raise ScriptError(f"{source}:{line}: q-quoted literal is never closed")
        return end + 2
    at = position + 1
    while True:
        end = text.find("'", at)
        if end < 0:
            raise ScriptError(f"{source}:{line}: string literal is never closed")
        if text.startswith("''", end):
            at = end + 2  # an escaped quote inside the literal
            continue
        return end + 1
