"""Translate a Vensim `.mdl` with PySD once, and load fresh model objects from the cache.

PySD writes a Python module for each model. Translation takes seconds; loading the module takes
milliseconds. The translated module is cached under the model's content hash (beside the parsed
spec, see `sdlib.core.spec`), so an edited `.mdl` is translated again and an unchanged one never
is. Every run gets a freshly loaded model, because PySD models keep the parameter changes of
their previous run.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

from ..core.errors import ModelError
from ..core.paths import cache_dir
from ..core.spec import file_sha256, load_spec


def translated_path(mdl: Path) -> Path:
    """The cached PySD module for this model, translating it first if needed."""
    mdl = Path(mdl).resolve()
    if not mdl.is_file():
        raise ModelError(f"{mdl.name}: model file not found (expected a Vensim .mdl file)")
    if mdl.suffix.lower() != ".mdl":
        raise ModelError(f"{mdl.name}: not a Vensim model (expected a file ending in .mdl)")
    target_dir = cache_dir() / file_sha256(mdl) / "pysd"
    target = target_dir / (mdl.stem + ".py")
    if target.is_file():
        return target
    load_spec(mdl)  # parse first: a malformed model gets one clear line naming the file
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".translate-", dir=target_dir.parent))
    try:
        shutil.copy2(mdl, work / mdl.name)
        import pysd

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PySD's notes on the translation, not on a run
            try:
                pysd.read_vensim(str(work / mdl.name), initialize=False)
            except Exception as exc:
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise ModelError(f"{mdl.name}: PySD could not translate the model ({first})") from None
        try:
            work.rename(target_dir)
        except OSError:  # another process cached it first
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    if not target.is_file():
        raise ModelError(f"{mdl.name}: PySD wrote no module for the model")
    return target


def load_model(mdl: Path):
    """A fresh PySD model object for this `.mdl` (translated once, then cached)."""
    import pysd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PySD's notes on loading a translated module
        return pysd.load(str(translated_path(mdl)))
