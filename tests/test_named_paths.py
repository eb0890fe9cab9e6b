"""Every repository path, ``eabench`` command and ``eabench.*`` name users are told about exists.

Sources (``SOURCES``): the Markdown docs (README.md, docs/**/*.md, data_collection/*.md,
surrogates/cards/*.md, benchmarks/README*, data/README.md, reports/README.md), the ``how_to_get``
hint of every registered benchmark (``eabench.registry.BENCHMARKS``) and the help strings of the
real command-line parser (``eabench.cli.build_parser``). Mentions are read from inline code spans
and fenced code blocks; in plain prose, repository paths, Markdown link targets and ``eabench.*``
names are read too.

Checks:

- **path**: a token that looks like a path (has a ``/`` or a known file extension) and starts with
  a repository top-level entry must exist, unless it is an output that a named command creates
  (``CREATED_BY_COMMAND``; each such command is checked too). Placeholders (``<run_id>``,
  ``SPEC.toml``, ``*``, ``...``, ``{a,b}``, ``$VAR``), URLs, ``~``, absolute and ``../`` paths and
  Hub repo ids are not paths of this repository. Documents that name files relative to a folder
  they state are listed in ``RELATIVE_BASES``.
- **module**: ``eabench.a.b.c`` (and ``from eabench.a import b``) must resolve: import the
  modules, then a getattr chain.
- **command**: ``eabench SUB [SUBSUB] ... --flag`` (also ``python -m eabench``) must name a
  subcommand registered in the real parser and only flags that (sub)parser accepts;
  ``python X.py``, ``python -m M`` and ``bash X.sh`` must name an existing script, and every
  ``--flag`` given to it must be spelled in the script's source.

A failure names the file, the line and the missing thing.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import importlib
import importlib.util
import re
import shlex
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from eabench.cli import build_parser
from eabench.registry import BENCHMARKS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parents[1]

# Documents users read (globs relative to the repository root).
DOC_GLOBS = (
    "README.md",
    "docs/**/*.md",
    "data_collection/*.md",
    "surrogates/cards/*.md",
    "benchmarks/**/README*",
    "data/README.md",
    "reports/README.md",
)

# Top-level entries a mention may start with. Listed explicitly (and not only read from disk) so
# that a mention of a removed top-level folder is a failure rather than "not a path".
KNOWN_ROOTS = frozenset(
    {
        ".ci",
        "benchmarks",
        "data",
        "data_collection",
        "docs",
        "eabench",
        "reports",
        "surrogates",
        "tests",
        "LICENSE",
        "NOTICE",
        "README.md",
        "pyproject.toml",
    }
)

PATH_EXTENSIONS = (
    ".py",
    ".toml",
    ".md",
    ".sh",
    ".h5",
    ".json",
    ".jsonl",
    ".npz",
    ".npy",
    ".csv",
    ".png",
    ".html",
    ".txt",
    ".pt",
    ".yaml",
    ".yml",
)

# Documents that name files relative to a folder they state: document -> (base folder, first
# components of relative paths meant). A relative mention there with a source extension
# (RELATIVE_EXTENSIONS), or starting with one of those components, must exist under the base.
RELATIVE_BASES: dict[str, tuple[str, tuple[str, ...]]] = {
    # "Modules in `eabench/surrogates/`": `bezier.py`, `heads.py`, ...
    "docs/surrogates.md": ("eabench/surrogates", ()),
    # the module table: `collect/spec.py`, `collect/models`, ...
    "docs/collect.md": ("eabench", ("collect",)),
    # "What is computed (`eabench/audit/`)": `derive.py`
    "docs/audit.md": ("eabench/audit", ()),
    # "sweep specs (`sweeps/*.toml`)", `sweeps/regnet_hpo_cifar10_gpu.toml`, `gpu_run.sh`
    "data_collection/README.md": ("data_collection", ("sweeps",)),
}
RELATIVE_EXTENSIONS = (".py", ".toml", ".sh")

# Outputs the docs name before they exist: path (a file or a folder; everything below a folder is
# covered) -> the command that creates it. The command is checked like any command mention, and
# the path must be among its declared outputs (``--out``/``--output``, a sweep's ``output_dir``, a
# recipe's ``output``, a path a script spells out).
CREATED_BY_COMMAND: dict[str, str] = {
    # the real RegNet x HPO sweep writes its run logs and sweep files here (output_dir)
    "data_collection/runs/regnet_hpo_cifar10": (
        "eabench collect data_collection/sweeps/regnet_hpo_cifar10_gpu.toml"
    ),
    # step 1 of the GPU recipe in data_collection/README.md
    "data_collection/meter_validation": (
        "eabench meters validate --out data_collection/meter_validation"
    ),
    # the consolidated dataset of the RegNet runs (registry how_to_get)
    "data/regnet-hpo-cifar10-runs.h5": (
        "eabench ingest data_collection/runs/regnet_hpo_cifar10/logs "
        "--out data/regnet-hpo-cifar10-runs.h5"
    ),
    # the RegNet x HPO surrogate artifact (registry how_to_get)
    "surrogates/artifacts/regnet-hpo-cifar10": (
        "eabench train surrogates/recipes/regnet-hpo-cifar10.toml"
    ),
    # the user's local copy of the CIFAR-10 JPEG pack, git-ignored (data_collection/README.md)
    "data_collection/_cifar10": "mkdir -p data_collection/_cifar10",
    # the SIMULATED curve-surrogate benchmark's results (docs/training.md), written when it is run
    "benchmarks/results/curve_surrogate_sim.json": "python benchmarks/bench_curve_surrogate.py",
}

# ``eabench.<x>`` names that are not Python objects: format identifiers written into files.
NOT_PYTHON_NAMES: dict[str, str] = {
    "eabench.dataset": "format id of the consolidated HDF5 dataset (eabench.logs.build)",
    "eabench.runlog": "format id of the raw run logs (eabench.logs.runlog_io)",
}

# Hub repo ids look like paths under eabench/ but are not.
HUB_REPOS = frozenset(spec.hub_repo for spec in BENCHMARKS.values())

# All-caps path stems are placeholders (SPEC.toml, RUNS_DIR, DATASET.h5), except these real names.
UPPERCASE_NAMES = frozenset({"README", "NOTICE", "LICENSE", "PROTOCOL"})


@dataclass(frozen=True)
class Source:
    """A text users read: a document, or a string in a source file."""

    label: str  # shown in failures, e.g. "docs/query.md" or "eabench/registry.py ... how_to_get"
    file: str  # repository-relative file the line numbers refer to
    text: str
    markdown: bool  # a whole Markdown document (fenced blocks, line numbers from the text)
    line: int = 1  # for strings in source files: the line of their definition


@dataclass(frozen=True)
class Mention:
    source: Source
    line: int
    kind: str  # "path", "module" or "command"
    text: str

    def where(self) -> str:
        return f"{self.source.file}:{self.line}"


# ---------------------------------------------------------------------------------------------
# Sources


def doc_sources() -> list[Source]:
    files: set[Path] = set()
    for pattern in DOC_GLOBS:
        files.update(p for p in REPO.glob(pattern) if p.is_file())
    out = []
    for path in sorted(files):
        rel = path.relative_to(REPO).as_posix()
        out.append(Source(rel, rel, path.read_text(encoding="utf-8"), markdown=True))
    return out


def _line_of(file: str, needle: str, default: int = 1) -> int:
    """First line of ``file``, from line ``default`` on, holding ``needle`` (else ``default``)."""
    try:
        lines = (REPO / file).read_text(encoding="utf-8").splitlines()
    except OSError:
        return default
    for i, line in enumerate(lines[default - 1 :], default):
        if needle in line:
            return i
    return default


def registry_sources() -> list[Source]:
    out = []
    for name, spec in BENCHMARKS.items():
        line = _line_of("eabench/registry.py", f'name="{name}"', 1)
        label = f"eabench.registry.BENCHMARKS[{name!r}].how_to_get"
        out.append(Source(label, "eabench/registry.py", spec.how_to_get, False, line))
    return out


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_strings(parser: argparse.ArgumentParser, prog: str) -> Iterator[tuple[str, str, str]]:
    """(command, what, raw text) of every help string of ``parser`` and its subparsers."""
    for what, text in (("description", parser.description), ("epilog", parser.epilog)):
        if text:
            yield prog, what, text
    for action in parser._actions:
        if action.help and action.help != argparse.SUPPRESS:
            yield prog, "/".join(action.option_strings) or action.dest, action.help
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    yield prog, choice.dest, choice.help
    for name, sub in _subparsers(parser).items():
        yield from _help_strings(sub, f"{prog} {name}")


def cli_sources() -> list[Source]:
    """One source per command: its raw help strings (the formatted help wraps paths at hyphens)."""
    texts: dict[str, list[str]] = {}
    for prog, _what, text in _help_strings(build_parser(), "eabench"):
        texts.setdefault(prog, []).append(text)
    out = []
    for prog, parts in texts.items():
        words = prog.split()
        module = f"eabench/commands/{words[1]}.py" if len(words) > 1 else "eabench/cli.py"
        text = "\n\n".join(parts)
        out.append(Source(f"`{prog} --help`", module, text, markdown=False))
    return out


def all_sources() -> list[Source]:
    return doc_sources() + registry_sources() + cli_sources()


# ---------------------------------------------------------------------------------------------
# Extraction

FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")
MODULE = re.compile(r"(?<![\w./-])eabench(?:\.[A-Za-z_]\w*)+")
FROM_IMPORT = re.compile(r"^\s*from\s+(eabench(?:\.\w+)*)\s+import\s+([\w\s,()]+?)\s*(?:#.*)?$")
PATH_SPLIT = re.compile(r"[\s\"'`(),;=\[\]|]+")
SHELL_SPLIT = re.compile(r"&&|\|\||;")
FLAG = re.compile(r"^--?[A-Za-z][\w-]*$")


@dataclass(frozen=True)
class Chunk:
    text: str
    offset: int  # of text[0] in the source text
    code: bool  # a code span or a code-block line (commands are read from code only)
    lang: str | None = None  # code-block lines: the fence's info string ("" if none)
    commands: bool = True  # read commands from it (not from the parts of a continued line)
    names: bool = True  # read paths and modules from it (not from a joined continued line)


def _chunks(source: Source) -> list[Chunk]:
    """Code-block lines, inline code spans, and the prose around them (spans blanked)."""
    text = source.text
    lines = text.splitlines(keepends=True)
    chunks: list[Chunk] = []
    inline_parts: list[str] = []
    fence: str | None = None
    lang = ""
    offset = 0
    pending: tuple[str, int] | None = None  # a code-block line continued with a backslash
    for line in lines:
        match = FENCE.match(line) if source.markdown else None
        if fence is None and match:
            fence = match.group(1)
            lang = line.strip()[len(fence) :].strip()
            inline_parts.append(" " * len(line.rstrip("\n")) + "\n" * line.endswith("\n"))
        elif fence is not None:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = None
            else:
                body = line.rstrip("\n")
                continued = body.rstrip().endswith("\\") and lang not in ("python", "py")
                if continued or pending is not None:
                    # the physical line for paths and modules; the joined line for the command
                    chunks.append(Chunk(body, offset, code=True, lang=lang, commands=False))
                    joined = body.rstrip().removesuffix("\\").strip()
                    if pending is not None:
                        joined = f"{pending[0]} {joined}"
                    start = offset if pending is None else pending[1]
                    pending = (joined, start) if continued else None
                    if not continued:
                        chunks.append(Chunk(joined, start, code=True, lang=lang, names=False))
                else:
                    chunks.append(Chunk(body, offset, code=True, lang=lang))
            inline_parts.append(" " * len(line.rstrip("\n")) + "\n" * line.endswith("\n"))
        else:
            inline_parts.append(line)
        offset += len(line)
    inline = "".join(inline_parts)
    prose = list(inline)
    for m in CODE_SPAN.finditer(inline):
        chunks.append(Chunk(m.group(2), m.start(2), code=True))
        for i in range(m.start(), m.end()):
            if prose[i] != "\n":
                prose[i] = " "
    chunks.append(Chunk("".join(prose), 0, code=False))
    return chunks


@functools.cache
def _roots() -> frozenset[str]:
    return KNOWN_ROOTS | {p.name for p in REPO.iterdir() if not p.name.startswith(".")}


ROOT_IN_PROSE = re.compile(
    r"(?<![\w./~-])((?:"
    + "|".join(re.escape(r) for r in sorted(KNOWN_ROOTS, key=len, reverse=True))
    + r")/[^\s`'\"()\[\],;]*)"
)


def is_placeholder(token: str) -> bool:
    if any(mark in token for mark in ("<", ">", "*", "...", "{", "}", "$", "DIR", "PATH")):
        return True
    for part in token.strip("/").split("/"):
        stem = part.split(".")[0]
        if stem.isupper() and stem not in UPPERCASE_NAMES:
            return True
    return False


def _clean_path(token: str) -> str | None:
    """The token as a repository-relative path candidate, or None if it is not one."""
    if not token or "://" in token or is_placeholder(token):
        return None
    token = token.rstrip(".:!?")
    while token.startswith("./"):
        token = token[2:]
    if not token or token.startswith(("~", "/", "..", "-")) or token in HUB_REPOS:
        return None
    if ".." in token.split("/"):
        return None
    if not re.fullmatch(r"[\w.+/-]+", token):
        return None
    return token


def _is_rooted(token: str) -> bool:
    first = token.split("/")[0]
    return first in _roots() and ("/" in token or token.endswith(PATH_EXTENSIONS))


def _relative_candidate(token: str, source: Source) -> bool:
    if not source.markdown or source.file not in RELATIVE_BASES:
        return False
    _base, folders = RELATIVE_BASES[source.file]
    return token.endswith(RELATIVE_EXTENSIONS) or ("/" in token and token.split("/")[0] in folders)


def _path_mentions(chunk: Chunk, source: Source) -> Iterator[tuple[int, str]]:
    if chunk.code:
        pos = 0
        for raw in PATH_SPLIT.split(chunk.text):
            start = chunk.text.find(raw, pos) if raw else pos
            pos = start + len(raw)
            token = _clean_path(raw)
            if token and (_is_rooted(token) or _relative_candidate(token, source)):
                yield chunk.offset + start, token
    else:
        for m in ROOT_IN_PROSE.finditer(chunk.text):
            token = _clean_path(m.group(1))
            if token and _is_rooted(token):
                yield chunk.offset + m.start(1), token
        if source.markdown:
            base = (REPO / source.file).parent
            for m in LINK.finditer(chunk.text):
                target = m.group(1).split("#")[0]
                if not target or "://" in target or target.startswith(("mailto:", "/")):
                    continue
                resolved = (base / target).resolve()
                if resolved.is_relative_to(REPO):
                    yield chunk.offset + m.start(1), resolved.relative_to(REPO).as_posix()


def _module_mentions(chunk: Chunk) -> Iterator[tuple[int, str]]:
    for m in MODULE.finditer(chunk.text):
        yield chunk.offset + m.start(), m.group(0)
    if chunk.code:
        m = FROM_IMPORT.match(chunk.text)
        if m:
            for name in m.group(2).replace("(", " ").replace(")", " ").split(","):
                name = name.split(" as ")[0].strip()
                if name:
                    yield chunk.offset + m.start(2), f"{m.group(1)}.{name}"


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _command_mentions(chunk: Chunk) -> Iterator[tuple[int, str]]:
    if not chunk.code or chunk.lang in ("python", "py"):
        return
    # shell comments in code blocks ("eabench meters probe   # which meters work here")
    text = re.sub(r"(^|\s)#.*$", "", chunk.text) if chunk.lang is not None else chunk.text
    pos = 0
    for segment in SHELL_SPLIT.split(text):
        start = text.find(segment, pos)
        pos = start + len(segment)
        tokens = _words(segment)
        for i, tok in enumerate(tokens):
            prev = tokens[i - 1] if i else ""
            if tok == "eabench" and prev not in ("import", "from", "install", "as"):
                if i + 1 < len(tokens):
                    yield chunk.offset + start, " ".join(tokens[i:])
                break
            if tok in ("python", "python3", "bash", "sh") and i + 1 < len(tokens):
                yield chunk.offset + start, " ".join(tokens[i:])
                break


def extract(source: Source) -> list[Mention]:
    newlines = [i for i, c in enumerate(source.text) if c == "\n"]

    def line(offset: int) -> int:
        if not source.markdown:
            return source.line
        return bisect.bisect_right(newlines, offset - 1) + 1

    seen: set[tuple[int, str, str]] = set()
    out: list[Mention] = []

    def add(offset: int, kind: str, text: str) -> None:
        ln = line(offset)
        if not source.markdown:
            ln = _line_of(source.file, text.split()[-1] if kind == "command" else text, ln)
        if (ln, kind, text) not in seen:
            seen.add((ln, kind, text))
            out.append(Mention(source, ln, kind, text))

    for chunk in _chunks(source):
        if chunk.names:
            for offset, token in _path_mentions(chunk, source):
                add(offset, "path", token)
            for offset, name in _module_mentions(chunk):
                add(offset, "module", name)
        if chunk.commands:
            for offset, command in _command_mentions(chunk):
                add(offset, "command", command)
    return out


# ---------------------------------------------------------------------------------------------
# Checks: each returns None when fine, else what is missing.


def _created_by(path: str) -> str | None:
    for created, command in CREATED_BY_COMMAND.items():
        if path.rstrip("/") == created or path.startswith(created + "/"):
            return command
    return None


def _exists(path: Path) -> bool:
    """``path`` exists, or names a module without its ``.py`` (``eabench/collect/training``)."""
    return path.exists() or (not path.suffix and path.with_suffix(".py").is_file())


def check_path(path: str, source: Source) -> str | None:
    if _is_rooted(path):
        if _exists(REPO / path) or _created_by(path):
            return None
        return f"path `{path}` does not exist (nor is it in CREATED_BY_COMMAND)"
    base, _folders = RELATIVE_BASES[source.file]
    if _exists(REPO / base / path):
        return None
    return f"`{path}` does not exist under {base}/ (RELATIVE_BASES of {source.file})"


def resolve_name(name: str) -> object:
    """Import ``eabench.a.b`` module by module, then getattr the rest; raises LookupError."""
    parts = name.split(".")
    obj: object = importlib.import_module(parts[0])
    done = parts[0]
    for part in parts[1:]:
        if isinstance(obj, ModuleType) and hasattr(obj, "__path__"):
            sub = f"{done}.{part}"
            if importlib.util.find_spec(sub) is not None:
                obj = importlib.import_module(sub)
                done = sub
                continue
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LookupError(f"`{done}` has no attribute or submodule `{part}`") from None
        done = f"{done}.{part}"
    return obj


class MissingDependency(Exception):
    """A name could not be checked: importing it needs a package that is not installed."""


def check_module(name: str) -> str | None:
    if name in NOT_PYTHON_NAMES:
        return None
    try:
        resolve_name(name)
    except LookupError as exc:
        return f"`{name}` does not resolve: {exc}"
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] != "eabench":
            raise MissingDependency(f"{name} needs {exc.name}") from exc
        return f"`{name}` does not resolve: {exc}"
    return None


def _option_map(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {opt: a for a in parser._actions for opt in a.option_strings}


def _strip_flag(token: str) -> str | None:
    token = token.strip("[]").split("=")[0]
    return token if FLAG.match(token) else None


def _plain_word(token: str) -> bool:
    return re.fullmatch(r"[a-z][a-z0-9_-]*", token) is not None


def check_eabench_command(tokens: list[str], rest: list[str]) -> list[str]:
    """``tokens`` starts at ``eabench``; ``rest`` are ``| word`` alternatives after it."""
    problems: list[str] = []
    parser = build_parser()
    words = tokens[1:]
    if not words:
        return problems
    sub_name = words[0]
    if sub_name.startswith("-"):
        flag = _strip_flag(sub_name)
        if flag and flag not in _option_map(parser):
            problems.append(f"`eabench` has no option `{flag}`")
        return problems
    if is_placeholder(sub_name) or not _plain_word(sub_name):
        return problems
    subs = _subparsers(parser)
    if sub_name not in subs:
        return [f"`eabench {sub_name}`: no such subcommand (known: {', '.join(subs)})"]
    parser = subs[sub_name]
    prog = f"eabench {sub_name}"
    options = _option_map(parser)
    positionals: list[str] = []
    i = 1
    while i < len(words):
        word = words[i]
        i += 1
        flag = _strip_flag(word)
        if word.startswith("-") and flag:
            action = options.get(flag)
            if action is None:
                problems.append(f"`{prog}` has no option `{flag}`")
                continue
            nargs = action.nargs
            n = 1 if nargs is None else nargs if isinstance(nargs, int) else 0
            i += n
            continue
        positionals.append(word)
        if len(positionals) == 1 and _subparsers(parser):
            nested = _subparsers(parser)
            if is_placeholder(word) or not _plain_word(word):
                continue
            if word not in nested:
                problems.append(f"`{prog} {word}`: no such subcommand (known: {', '.join(nested)})")
                return problems
            parser = nested[word]
            prog = f"{prog} {word}"
            options = _option_map(parser)
            positionals = []
    choices = [
        a.choices
        for a in parser._actions
        if not a.option_strings and a.choices and not isinstance(a, argparse._SubParsersAction)
    ]
    if choices and positionals:
        for word in [positionals[0], *rest]:
            if _plain_word(word) and word not in choices[0]:
                problems.append(f"`{prog} {word}`: not one of {sorted(choices[0])}")
    return problems


def _script_flags_problems(script: Path, display: str, words: list[str]) -> list[str]:
    text = script.read_text(encoding="utf-8")
    problems = []
    for word in words:
        flag = _strip_flag(word)
        if word.startswith("--") and flag and flag not in text:
            problems.append(f"`{display}`: option `{flag}` is not in {script.relative_to(REPO)}")
    return problems


def check_command(command: str) -> list[str]:
    parts = [p.strip() for p in command.split(" | ")]
    tokens = _words(parts[0])
    alternatives = [p for p in parts[1:] if re.fullmatch(r"[a-z][a-z0-9_-]*", p)]
    if tokens[0] == "eabench":
        return check_eabench_command(tokens, alternatives)
    if tokens[0] in ("python", "python3") and len(tokens) > 1:
        if tokens[1] == "-m" and len(tokens) > 2:
            module = tokens[2]
            if module == "eabench":
                return check_eabench_command(["eabench", *tokens[3:]], alternatives)
            if not module.startswith("eabench."):
                return []
            spec = importlib.util.find_spec(module)
            if spec is None or spec.origin is None:
                return [f"`python -m {module}`: no such module"]
            return _script_flags_problems(Path(spec.origin), f"python -m {module}", tokens[3:])
        return _check_script(tokens[1], "python", tokens[2:])
    if tokens[0] in ("bash", "sh") and len(tokens) > 1:
        return _check_script(tokens[1], tokens[0], tokens[2:])
    return []


def _check_script(path: str, runner: str, args: list[str]) -> list[str]:
    if path.startswith("-") or is_placeholder(path) or not _is_rooted(path):
        return []
    script = REPO / path
    if not script.is_file():
        return [f"`{runner} {path}`: script {path} does not exist"]
    return _script_flags_problems(script, f"{runner} {path}", args)


def check(mention: Mention) -> list[str]:
    if mention.kind == "path":
        problem = check_path(mention.text, mention.source)
        return [problem] if problem else []
    if mention.kind == "module":
        problem = check_module(mention.text)
        return [problem] if problem else []
    return check_command(mention.text)


# ---------------------------------------------------------------------------------------------
# Tests

SOURCES = all_sources()


def _failures(source: Source, unchecked: list[str] | None = None) -> list[str]:
    out = []
    for mention in extract(source):
        try:
            problems = check(mention)
        except MissingDependency as exc:
            if unchecked is None:
                raise
            unchecked.append(f"{mention.where()}: {exc}")
            continue
        out.extend(f"{mention.where()}: {p}  [{source.label}]" for p in problems)
    return out


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.label)
def test_named_things_exist(source: Source) -> None:
    unchecked: list[str] = []
    failures = _failures(source, unchecked)
    assert not failures, "named but missing:\n" + "\n".join(failures)
    if unchecked:
        pytest.skip("not checked (optional dependency missing): " + "; ".join(unchecked))


def test_mentions_are_found() -> None:
    """The extraction is not vacuous: the main kinds of mention are found where expected."""
    found = {(m.source.file, m.kind, m.text) for s in SOURCES for m in extract(s)}
    expected = {
        ("README.md", "path", "data/eabench-data.h5"),
        ("README.md", "command", "eabench query nb101-7v --example --epochs 108"),
        ("docs/query.md", "module", "eabench.spaces.nb101.index.plain_key"),
        ("docs/dataset.md", "module", "eabench.logs.open_dataset"),
        ("docs/surrogates.md", "path", "heads.py"),
        ("docs/collect.md", "path", "collect/spec.py"),
        ("eabench/registry.py", "path", "data_collection/gpu_run.sh"),
        ("eabench/registry.py", "command", "bash data_collection/gpu_run.sh"),
    }
    assert expected <= found, sorted(expected - found)
    kinds = {kind for _, kind, _ in found}
    assert kinds == {"path", "module", "command"}
    assert len(found) > 200


def test_checks_catch_missing_things() -> None:
    doc = Source(
        "docs/surrogates.md",
        "docs/surrogates.md",
        "See `eabench/nope.py` and `missing.py`, `eabench.surrogates.nope` and\n"
        "eabench.loading.nope in prose, tests/nope.py too. Placeholders: `data/<x>.h5`,\n"
        "`SPEC.toml`, `runs/*/logs`, `~/x.py`, `/tmp/x.py`, `eabench/nb101-7v`.\n"
        "```bash\n"
        "eabench nope\n"
        "eabench query nb101-7v --nope\n"
        "eabench meters nope\n"
        "eabench cache list | verify | nope\n"
        "python benchmarks/nope.py\n"
        "python benchmarks/bench_query.py --nope \\\n"
        "    --name x\n"
        "eabench audit data/eabench-data.h5 \\\n"
        "    --out x --nope  # --also-not-checked: a comment\n"
        "```\n",
        markdown=True,
    )
    failures = _failures(doc)
    text = "\n".join(failures)
    for missing in (
        "docs/surrogates.md:1: path `eabench/nope.py`",
        "docs/surrogates.md:1: `missing.py` does not exist under eabench/surrogates/",
        "docs/surrogates.md:1: `eabench.surrogates.nope` does not resolve",
        "docs/surrogates.md:2: `eabench.loading.nope` does not resolve",
        "docs/surrogates.md:2: path `tests/nope.py`",
        "docs/surrogates.md:5: `eabench nope`: no such subcommand",
        "docs/surrogates.md:6: `eabench query` has no option `--nope`",
        "docs/surrogates.md:7: `eabench meters nope`: no such subcommand",
        "docs/surrogates.md:8: `eabench cache nope`: not one of",
        "docs/surrogates.md:9: path `benchmarks/nope.py` does not exist",
        "docs/surrogates.md:9: `python benchmarks/nope.py`: script",
        "docs/surrogates.md:10: `python benchmarks/bench_query.py`: option `--nope` is not in",
        "docs/surrogates.md:12: `eabench audit` has no option `--nope`",
    ):
        assert missing in text, text
    assert len(failures) == 13, text


def _declared_outputs(command: str, path: str) -> list[str]:
    """Paths a command writes: ``--out``/``--output``, a sweep's output_dir, a recipe's output,
    the folders of ``mkdir``, ``path`` if the script a command runs spells it out."""
    tokens = command.split()
    outs = [tokens[i + 1] for i, t in enumerate(tokens[:-1]) if t in ("--out", "--output")]
    if tokens[0] == "mkdir":
        outs += [t for t in tokens[1:] if not t.startswith("-")]
    if tokens[0] in ("python", "python3", "bash", "sh") and (REPO / tokens[1]).is_file():
        script = (REPO / tokens[1]).read_text(encoding="utf-8")
        if path in script or all(f'"{part}"' in script for part in path.split("/")):
            outs.append(path)
    if tokens[:2] == ["eabench", "collect"] and (REPO / tokens[2]).is_file():
        spec = REPO / tokens[2]
        output_dir = tomllib.loads(spec.read_text(encoding="utf-8"))["sweep"]["output_dir"]
        outs.append((spec.parent / output_dir).resolve().relative_to(REPO).as_posix())
    if tokens[:2] == ["eabench", "train"] and (REPO / tokens[2]).is_file():
        recipe = tomllib.loads((REPO / tokens[2]).read_text(encoding="utf-8"))
        if "output" in recipe:
            outs.append(str(recipe["output"]))
    return [o.rstrip("/") for o in outs]


@pytest.mark.parametrize("path", sorted(CREATED_BY_COMMAND))
def test_created_outputs_name_a_real_command(path: str) -> None:
    command = CREATED_BY_COMMAND[path]
    assert check_command(command) == [], command
    outputs = _declared_outputs(command, path)
    for token in command.split()[1:]:
        arg = _clean_path(token)
        if arg and _is_rooted(arg) and arg not in outputs:
            # an input: it exists, or another listed command creates it
            creator = _created_by(arg)
            assert (REPO / arg).exists() or (creator and creator != command), (
                f"CREATED_BY_COMMAND[{path!r}]: input `{arg}` of `{command}` does not exist"
            )
    assert any(path == o or path.startswith(o + "/") for o in outputs), (
        f"CREATED_BY_COMMAND[{path!r}]: `{command}` writes {outputs}, not {path}"
    )


def test_non_python_names_are_format_ids() -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "eabench").rglob("*.py"))
    for name in NOT_PYTHON_NAMES:
        assert f'"{name}"' in source, f"{name} is no longer a string in eabench/"
        with pytest.raises((LookupError, ModuleNotFoundError)):
            resolve_name(name)
