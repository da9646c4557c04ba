"""A model file is data, never code (issue 16.1).

Every field of a model that PySD copies into the Python it writes (comment, units, name, equation,
lookup, macro, data file arguments) is tried with text built to break out of a string literal
(triple quotes, single quotes, backslashes, newlines, escapes that PySD's parser turns into
quotes). Each model either runs or is refused with one line; the command the text carries
(`touch MARK`) never runs. Then the guard behind the sanitiser, `verify_python`, is shown to
refuse what PySD writes when nothing was sanitised.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

from sdlib.core.errors import ModelError
from sdlib.engine.untrusted import KERNEL, literal_problem, pysd_profile, verify_python

TEMPLATE = """{UTF-8}
:MACRO: @MACRO@(x)
@MACRO@ = 2 * x
\t~\tDmnl
\t~\t@MACRO_COMMENT@
\t|

:END OF MACRO:
Stock= INTEG (
\t-outflow,
\t\t100)
\t~\t@UNITS@
\t~\t@COMMENT@
\t|

outflow=
\tStock * decay rate * response(Time) * @MACRO@(0.5) * @NAME@
\t~\tWidget/Year
\t~\t\t|

response(
\t[(0,0)-(20,2)],(0,1),(20,1))
\t~\tDmnl
\t~\t@LOOKUP_COMMENT@
\t|

decay rate=
\t@EQUATION@
\t~\t1/Year [0,1]
\t~\t\t|

data value=
\tGET DIRECT CONSTANTS('rate.csv', '@TAB@', '@CELL@')
\t~\tDmnl
\t~\t\t|

@NAME@=
\t1
\t~\tDmnl
\t~\t\t|

FINAL TIME  = 5
\t~\tYear
\t~\t\t|

INITIAL TIME  = 0
\t~\tYear
\t~\t\t|

SAVEPER  = 1
\t~\tYear
\t~\t\t|

TIME STEP  = 0.5
\t~\tYear
\t~\t\t|
"""

DEFAULTS = {"UNITS": "Widget", "COMMENT": "a stock", "MACRO_COMMENT": "twice x", "LOOKUP_COMMENT": "flat",
            "EQUATION": "0.1", "TAB": ",", "CELL": "B2", "NAME": "scale", "MACRO": "DOUBLED"}
FIELDS = {  # field -> (placeholder, how a payload is written into it)
    "comment": ("COMMENT", "{}"),
    "units": ("UNITS", "Widget {}"),
    "name": ("NAME", '"scale {}"'),
    "equation": ("EQUATION", "0.1 {}"),
    "lookup": ("LOOKUP_COMMENT", "{}"),
    "macro comment": ("MACRO_COMMENT", "{}"),
    "macro name": ("MACRO", "DOUBLED{}"),
    "data sheet": ("TAB", "{}"),
    "data cell": ("CELL", "{}"),
}
PAYLOADS = {
    "triple quotes": '""" and __import__("os").system("touch MARK") and """',
    "single quotes": "' + __import__('os').system('touch MARK') + '",
    "escaped quotes": r'\x27+__import__("os").system("touch MARK")+\x27',
    "escaped triple quotes": r'\x22\x22\x22 and __import__("os").system("touch MARK") and \x22\x22\x22',
    "backslash newline": '\\\n__import__("os").system("touch MARK")',
    "trailing backslash": "text \\",
    "newline": '\n__import__("os").system("touch MARK")\n',
}


def model_text(field: str, payload: str) -> str:
    values = dict(DEFAULTS)
    placeholder, form = FIELDS[field]
    values[placeholder] = form.format(payload)
    text = TEMPLATE
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


@pytest.mark.parametrize("payload", PAYLOADS, ids=list(PAYLOADS))
@pytest.mark.parametrize("field", FIELDS, ids=list(FIELDS))
def test_no_field_of_a_model_runs_code(field, payload, cli, tmp_path, monkeypatch):
    (tmp_path / "model.mdl").write_text(model_text(field, PAYLOADS[payload]), encoding="utf-8")
    (tmp_path / "rate.csv").write_text("name,value\nrate,0.5\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("simulate", "model.mdl", "--no-plots", "--out", "out")
    assert not (tmp_path / "MARK").exists(), f"{field} / {payload}: the model's text ran as code"
    assert "Traceback" not in err
    assert code in (0, 2), f"{field} / {payload}: exit {code}\n{err}"
    if code == 2:  # refused: one line, nothing written
        assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists(), err
    else:
        assert (tmp_path / "out" / "timeseries.csv").is_file()


def test_the_template_itself_runs(cli, tmp_path, monkeypatch):
    """The fields above are tried on a model that runs as it is (so a refusal is the payload's doing)."""
    (tmp_path / "model.mdl").write_text(model_text("comment", "a stock"), encoding="utf-8")
    (tmp_path / "rate.csv").write_text("name,value\nrate,0.5\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("simulate", "model.mdl", "--no-plots", "--out", "out")
    assert code == 0, err
    import pandas as pd

    frame = pd.read_csv(tmp_path / "out" / "timeseries.csv", index_col=0)
    # Euler: S(t + dt) = S(t) (1 - 0.1 * 1 * 1 * 1 * 1 * dt), dt = 0.5, so S(1) = 100 * 0.95^2 exactly.
    assert frame.loc[1.0, "Stock"] == pytest.approx(100 * 0.95**2, rel=1e-12)
    assert frame.loc[5.0, "Stock"] == pytest.approx(100 * 0.95**10, rel=1e-12)


def unsanitised_translation(text: str, tmp_path: Path) -> str:
    """What PySD itself writes for a model, with no sanitising."""
    from pysd.builders.python.python_model_builder import ModelBuilder
    from pysd.translators.vensim.vensim_file import VensimFile

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    (folder / "m.mdl").write_text(text, encoding="utf-8")
    shutil.copy(tmp_path / "rate.csv", folder / "rate.csv") if (tmp_path / "rate.csv").exists() else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vf = VensimFile(folder / "m.mdl")
        vf.parse()
        return Path(ModelBuilder(vf.get_abstract_model()).build_model()).read_text(encoding="utf-8")


@pytest.mark.parametrize("field, payload", [("comment", "triple quotes"), ("data cell", "escaped quotes")])
def test_what_pysd_writes_unsanitised_is_refused(field, payload, tmp_path):
    """PySD alone pastes these payloads into live code; the second guard refuses that code."""
    source = unsanitised_translation(model_text(field, PAYLOADS[payload]), tmp_path)
    assert '__import__("os").system("touchMARK")' in "".join(source.replace("'", '"').split())  # live code
    with pytest.raises(ModelError, match="refused: the generated Python"):
        verify_python(source, "m.py", pysd_profile())


@pytest.mark.parametrize("source, why", [
    ("import os\n", "imports 'os'"),
    ("from subprocess import run\n", "imports 'subprocess'"),
    ("x = eval('1')\n", "builtin 'eval'"),
    ("x = open('f')\n", "builtin 'open'"),
    ("x = ().__class__\n", "attribute '__class__'"),
    ("def f():\n    import numpy\n", "inside a function"),
    ("class A:\n    pass\n", "ClassDef"),
    ("x = np.load('f', allow_pickle=True)\n", "attribute 'load'"),
    ("_root.joinpath('x').write_text('y')\n", "attribute 'write_text'"),
    ("x = __builtins__\n", "name '__builtins__'"),
    ("with open('f') as h:\n    pass\n", "With"),
    ("x = (\n", "does not parse"),
])
def test_verify_python_refuses_what_a_model_never_needs(source, why):
    with pytest.raises(ModelError, match=why.replace("(", r"\(")):
        verify_python(source, "m.py", pysd_profile())


def test_verify_python_accepts_what_pysd_writes(tmp_path):
    (tmp_path / "rate.csv").write_text("name,value\nrate,0.5\n", encoding="utf-8")
    verify_python(unsanitised_translation(model_text("comment", "a stock"), tmp_path), "m.py", pysd_profile())
    verify_python("import numpy as np\nfrom numba import njit\n@njit(cache=True)\ndef kernel(P):\n"
                  "    return np.exp(P[0].copy())\n", "k.py", KERNEL)


@pytest.mark.parametrize("text, problem", [("B2", None), ("a'b", "a quote"), ('a"b', "a quote"),
                                           ("a\nb", "a newline or control character"), ("ab\\", "a trailing backslash"),
                                           ("\t", None), ("a\x00b", "a newline or control character")])
def test_literal_problem(text, problem):
    assert literal_problem(text) == problem
