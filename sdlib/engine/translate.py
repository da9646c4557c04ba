"""Translate a Vensim `.mdl` with PySD once, and load fresh model objects from the cache.

PySD writes a Python module for each model. Translation takes seconds; loading the module takes
milliseconds. The translation is cached in a folder named by everything its content depends on
(see `cache_key`): the `.mdl`'s content hash, the data files it reads (names and contents), and
the versions of PySD, Tokenworld and this translation step. So an edited model or data file, or
an upgraded PySD, is translated again, and an unchanged one never is.

A model file is data (see `untrusted`): the parsed model is sanitised before PySD writes its
Python, and that Python is checked before anything imports it. The folder is built beside its
final place and renamed into it whole, with `checksums.json` (the SHA-256 of every file written)
last; before each use every file is checked against it, and a damaged, emptied, truncated or
edited translation is discarded and rebuilt, never run. The data files a model reads (GET XLS /
DIRECT DATA, LOOKUPS, CONSTANTS) are copied into the folder, so the translation reads the copy
its key names. Every run gets a freshly loaded model, because PySD models keep the parameter
changes of their previous run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
import warnings
from pathlib import Path

from ..core.errors import ModelError
from ..core.paths import cache_dir
from ..core.rundir import sweep, temporary_dir, write_cache_file
from ..core.spec import ModelSpec, file_sha256, load_spec
from .untrusted import pysd_profile, sanitise, verify_python

TRANSLATION_FORMAT = 2  # bump when what this module writes changes
CHECKSUMS = "checksums.json"
MODULE = "model.py"  # the translated module's name, whatever the .mdl is called


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        pysd_version = version("pysd")
    except PackageNotFoundError:  # pragma: no cover
        pysd_version = "unknown"
    return {"pysd": pysd_version, "tokenworld": __version__, "format": TRANSLATION_FORMAT}


def data_files(spec: ModelSpec) -> list[tuple[str, Path]]:
    """The data files a model reads (as written in the model, and where they are), each checked to exist."""
    from pysd.translators.structures import abstract_expressions as ax

    found: dict[str, Path] = {}
    external = (ax.GetDataStructure, ax.GetLookupsStructure, ax.GetConstantsStructure)

    def walk(node, owner: str, depth: int = 0) -> None:
        if depth > 200 or node is None or isinstance(node, (int, float, str, bool)):
            return
        if isinstance(node, external):
            written = str(node.file)
            if written.startswith("?"):
                raise ModelError(f"{spec.path.name}: '{owner}' reads {written!r}, a Vensim indirect file reference; "
                                 f"give the data file's name")
            path = Path(written) if Path(written).is_absolute() else spec.path.parent / written
            if not path.is_file():
                raise ModelError(f"{spec.path.name}: '{owner}' reads the data file {written!r}, which is not found "
                                 f"(looked for {path}); put it beside the model")
            found.setdefault(written, path.resolve())
            return
        children = vars(node).values() if hasattr(node, "__dict__") else node if isinstance(node, (list, tuple)) else ()
        for child in children:
            walk(child, owner, depth + 1)

    for element in spec.elements.values():
        walk(element.ast, element.name)
    return sorted(found.items())


def cache_key(spec: ModelSpec, files: list[tuple[str, Path]]) -> str:
    """What a translation depends on, hashed: model content, data files (names and content), versions."""
    text = json.dumps({"model": spec.sha256, "data": [(name, file_sha256(path)) for name, path in files],
                       **_versions()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def translation_dir(mdl: Path) -> Path:
    """The folder holding this model's translation (it may not exist yet)."""
    spec = load_spec(mdl)
    return cache_dir() / spec.sha256 / f"pysd-{cache_key(spec, data_files(spec))}"


def translated_path(mdl: Path) -> Path:
    """The cached PySD module for this model, translated (again) first when missing or damaged."""
    mdl = Path(mdl).resolve()
    if not mdl.is_file():
        raise ModelError(f"{mdl.name}: model file not found (expected a Vensim .mdl file)")
    if mdl.suffix.lower() != ".mdl":
        raise ModelError(f"{mdl.name}: not a Vensim model (expected a file ending in .mdl)")
    spec = load_spec(mdl)  # parse first: a malformed model gets one clear line naming the file
    files = data_files(spec)
    folder = cache_dir() / spec.sha256 / f"pysd-{cache_key(spec, files)}"
    if verified(folder):
        return folder / MODULE
    discard(folder)
    _translate(mdl, spec, files, folder)
    if not verified(folder):
        raise ModelError(f"{mdl.name}: the translation in {folder} could not be verified after writing it "
                         f"(is the cache folder shared or failing?); delete it and try again")
    return folder / MODULE


def verified(folder: Path) -> bool:
    """Whether `folder` holds exactly what was written into it (its checksums match, nothing added)."""
    try:
        listed = json.loads((folder / CHECKSUMS).read_text(encoding="utf-8"))
        if not isinstance(listed, dict) or MODULE not in listed:
            return False
        for name, digest in listed.items():
            path = folder / name
            if path.is_symlink() or not path.is_file() or file_sha256(path) != digest:
                return False
        present = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and "__pycache__" not in p.parts} - {CHECKSUMS}
    except (OSError, ValueError):
        return False
    if present != set(listed):
        return False
    shutil.rmtree(folder / "__pycache__", ignore_errors=True)  # bytecode is never written here (see load_model)
    return True


def discard(folder: Path) -> None:
    """Remove a damaged translation: renamed aside first, so no reader sees it half-deleted."""
    if not folder.exists():
        return
    with temporary_dir(folder.parent, "discard") as trash:
        try:
            os.replace(folder, trash / "old")
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)


def _translate(mdl: Path, spec: ModelSpec, files: list[tuple[str, Path]], folder: Path) -> None:
    from pysd.builders.python.python_model_builder import ModelBuilder
    from pysd.translators.structures import abstract_expressions as ax
    from pysd.translators.vensim.vensim_file import VensimFile

    parent = folder.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(".translate-*"):  # left by versions before 0.2.1, whose names carry no process
        try:
            if stale.is_dir() and time.time() - stale.stat().st_mtime > 600:
                shutil.rmtree(stale, ignore_errors=True)
        except OSError:
            pass
    sweep(parent)
    with temporary_dir(parent, "translate") as work:
        source = work / "model.mdl"
        shutil.copyfile(mdl, source)
        copies = {}
        if files:
            (work / "data").mkdir()
            for i, (written, path) in enumerate(files):
                name = f"data/{i}{path.suffix.lower()}"
                shutil.copyfile(path, work / name)
                copies[written] = name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySD's notes on the translation, not on a run
            try:
                vf = VensimFile(source)
                vf.parse()
                abstract = vf.get_abstract_model()
            except Exception as exc:  # PySD raises many kinds on malformed text
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ModelError(f"{mdl.name}: PySD could not translate the model ({first})") from None
            _point_at_copies(abstract, copies, ax)
            sanitise(abstract, mdl.name)
            for section in abstract.sections:
                if Path(section.path).resolve().parent != work.resolve():
                    raise ModelError(f"{mdl.name}: the macro {section.name!r} would be written outside the "
                                     f"translation folder; rename it")
            try:
                module = Path(ModelBuilder(abstract).build_model())
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ModelError(f"{mdl.name}: PySD could not translate the model ({first})") from None
        if module.name != MODULE or not module.is_file():
            raise ModelError(f"{mdl.name}: PySD wrote no module for the model")
        profile = pysd_profile()
        checksums = {}
        source.unlink()
        shutil.rmtree(work / "__pycache__", ignore_errors=True)
        for path in sorted(work.rglob("*")):
            if path.is_symlink():
                raise ModelError(f"{mdl.name}: the translation holds a symbolic link ({path.name}); refused")
            if not path.is_file():
                continue
            name = path.relative_to(work).as_posix()
            if path.suffix == ".py":
                verify_python(path.read_text(encoding="utf-8"), f"{mdl.name} (translated: {name})", profile)
            checksums[name] = file_sha256(path)
        write_cache_file(work / CHECKSUMS, json.dumps(checksums, indent=1, sort_keys=True).encode())
        try:
            os.rename(work, folder)
        except OSError:  # another process translated it first: keep theirs (verified by the caller)
            pass


def _point_at_copies(abstract, copies: dict, ax) -> None:
    """Make the model read the copies of its data files kept in the translation folder."""
    if not copies:
        return
    external = (ax.GetDataStructure, ax.GetLookupsStructure, ax.GetConstantsStructure)

    def walk(node, depth=0):
        if depth > 200 or node is None or isinstance(node, (int, float, str, bool)):
            return
        if isinstance(node, external) and str(node.file) in copies:
            node.file = copies[str(node.file)]
            return
        children = vars(node).values() if hasattr(node, "__dict__") else node if isinstance(node, (list, tuple)) else ()
        for child in children:
            walk(child, depth + 1)

    for section in abstract.sections:
        for element in section.elements:
            for component in element.components:
                walk(component.ast)


def load_model(mdl: Path):
    """A fresh PySD model object for this `.mdl` (translated once, then cached; verified before use)."""
    import pysd

    path = translated_path(mdl)
    writing = sys.dont_write_bytecode
    sys.dont_write_bytecode = True  # no bytecode beside the verified source: only the source is run
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySD's notes on loading a translated module
            return pysd.load(str(path))
    finally:
        sys.dont_write_bytecode = writing
