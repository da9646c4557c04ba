"""A model file is data, never code.

PySD turns a `.mdl` into Python by pasting parts of its text into a template: a comment becomes
a docstring, a data file's name a string literal. Text that closes the literal (a comment with
`\"\"\"`, a file name with a quote) would become code, run when the model is loaded. Two guards,
each enough on its own:

1. Before PySD writes anything, `sanitise` cleans the parsed model: comments lose the double
   quotes and control characters that could end a docstring, and every other piece of text PySD
   pastes into a literal (data file names, sheets, cells, macro and subscript names) is refused
   if it holds a quote, a newline, a control character or a trailing backslash. Names and units
   are written by PySD with `repr`, which any text survives.
2. After PySD (or the batch engine's generator) has written its Python, and before anything
   imports it, `verify_python` reads it with `ast` and refuses it unless every statement is of
   a kind a translated model holds: imports of numpy, xarray, scipy.stats, pathlib and PySD only,
   no dunder attribute, no builtin that reaches outside the model (`eval`, `exec`, `open`,
   `__import__`, `getattr`, ...), and only the attributes PySD's templates use.

>>> verify_python("import os\\n", "x.py", PYSD)
Traceback (most recent call last):
...
sdlib.core.errors.ModelError: x.py: refused: the generated Python imports 'os' (a model file is data; \
this is not something a Vensim model can ask for)
"""

from __future__ import annotations

import ast
import builtins
import re
import unicodedata
from dataclasses import dataclass, fields, is_dataclass

from ..core.errors import ModelError

# --- 1. the parsed model, cleaned before PySD writes it --------------------------------------------
# Written with repr() by PySD (names, units), or turned into Python identifiers before they are
# written (references to other elements): any text is safe there.
_REPR_FIELDS = {"name", "units", "reference"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean_comment(text: str) -> str:
    """A comment PySD can put in a docstring: no double quote (which could close it), no control
    characters (tab and newline stay)."""
    text = _CONTROL.sub(" ", text)
    return "".join("'" if ch == '"' or unicodedata.category(ch) == "Zl" else ch for ch in text)


def literal_problem(text: str) -> str | None:
    """Why `text` cannot be pasted between quotes in generated Python, or None when it can."""
    if "'" in text or '"' in text:
        return "a quote"
    if "\n" in text or "\r" in text or _CONTROL.search(text) or any(
            unicodedata.category(ch) in ("Zl", "Zp") for ch in text):
        return "a newline or control character"
    if text.endswith("\\"):
        return "a trailing backslash"
    return None


def sanitise(abstract, model_name: str) -> None:
    """Clean a PySD abstract model in place (comments), or refuse it naming the element and field."""
    for section in abstract.sections:
        where = model_name if section.name == "__main__" else f"{model_name}: macro {section.name!r}"
        problem = literal_problem(section.name) if section.name != "__main__" else None
        if problem:
            raise ModelError(f"{model_name}: the macro name {section.name!r} holds {problem}; "
                             f"rename the macro (a model file is data, not code)")
        for element in section.elements:
            element.documentation = _clean_comment(element.documentation or "")
            for component in element.components:
                _check_strings(component, f"{where}: '{element.name}'", depth=0)
        for subscript in section.subscripts:
            _check_strings(subscript, f"{where}: subscript range '{getattr(subscript, 'name', '?')}'", depth=0,
                           skip_name=False)
        for value in (section.params or []) + (section.returns or []):
            if isinstance(value, str) and literal_problem(value):
                raise ModelError(f"{where}: the macro argument {value!r} holds {literal_problem(value)}; rename it")


def _check_strings(node, where: str, depth: int, field_name: str = "", skip_name: bool = True) -> None:
    if depth > 200:
        raise ModelError(f"{where}: an equation nested more than 200 levels deep; simplify it")
    if isinstance(node, str):
        if skip_name and field_name in _REPR_FIELDS:
            return
        problem = literal_problem(node)
        if problem:
            what = {"file": "the data file name", "tab": "the sheet or separator", "cell": "the cell",
                    "x_row_or_col": "the row or column", "time_row_or_col": "the row or column"}.get(
                field_name, "the text")
            raise ModelError(f"{where}: {what} {node[:80]!r} holds {problem}, which PySD would paste into "
                             f"Python; refused (a model file is data, not code)")
        return
    if isinstance(node, dict):
        for key, value in node.items():
            _check_strings(key, where, depth + 1, field_name, skip_name)
            _check_strings(value, where, depth + 1, field_name, skip_name)
    elif isinstance(node, (list, tuple, set)):
        for item in node:
            _check_strings(item, where, depth + 1, field_name, skip_name)
    elif is_dataclass(node):
        for f in fields(node):
            _check_strings(getattr(node, f.name), where, depth + 1, f.name, skip_name)
    elif hasattr(node, "__dict__"):
        for key, value in vars(node).items():
            _check_strings(value, where, depth + 1, key, skip_name)


# --- 2. the generated Python, read before it is imported -------------------------------------------
@dataclass(frozen=True)
class Profile:
    """What one generator's Python may hold."""

    modules: tuple[str, ...]  # importable modules (a module or any submodule of it)
    attributes: frozenset[str]
    names: frozenset[str] = frozenset()  # dunder names it may use


_SAFE_NODES = {
    "Module", "Expr", "Assign", "AugAssign", "AnnAssign", "FunctionDef", "Return", "Import", "ImportFrom", "alias",
    "arguments", "arg", "keyword", "Lambda", "Call", "Attribute", "Name", "Load", "Store", "Constant", "Subscript",
    "Slice", "Tuple", "List", "Dict", "Set", "BinOp", "UnaryOp", "BoolOp", "Compare", "IfExp", "If", "For", "While",
    "Break", "Continue", "Pass", "Starred", "ListComp", "DictComp", "GeneratorExp", "comprehension",
    "Add", "Sub", "Mult", "Div", "FloorDiv", "Mod", "Pow", "USub", "UAdd", "Not", "And", "Or", "Invert",
    "BitAnd", "BitOr", "BitXor", "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "In", "NotIn", "Is", "IsNot",
}
_SAFE_BUILTINS = {
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "float", "int", "isinstance", "len", "list", "max",
    "min", "pow", "range", "round", "set", "sorted", "sum", "tuple", "zip", "True", "False", "None", "ValueError",
    "TypeError", "ZeroDivisionError", "ArithmeticError", "Exception",
}
_UNSAFE_BUILTINS = frozenset(dir(builtins)) - _SAFE_BUILTINS

# numpy's element-wise math and the array helpers a translated model calls.
_NUMPY = frozenset({
    "abs", "absolute", "arccos", "arcsin", "arctan", "arctan2", "cos", "cosh", "exp", "expm1", "log", "log10", "log1p",
    "log2", "maximum", "minimum", "fmax", "fmin", "power", "sin", "sinh", "sqrt", "tan", "tanh", "floor", "ceil",
    "round", "sign", "mod", "fmod", "remainder", "isnan", "isinf", "isfinite", "where", "clip", "interp", "array",
    "asarray", "empty", "zeros", "ones", "full", "zeros_like", "ones_like", "full_like", "arange", "linspace", "tile",
    "moveaxis", "prod", "sum", "max", "min", "mean", "all", "any", "nan", "inf", "pi", "e", "float64", "int64",
    "logical_and", "logical_or", "logical_not", "copy", "shape", "ndim", "size", "random", "uniform", "normal",
    "linalg", "inv", "transpose", "reshape", "squeeze", "expand_dims", "broadcast_to", "concatenate", "stack",
    "searchsorted", "argmax", "argmin", "cumsum", "isclose",
})
_PYSD = _NUMPY | {
    # xarray and the model's own objects, as PySD's templates use them
    "DataArray", "loc", "values", "rename", "reset_coords", "transpose", "expand_dims", "coords", "dims", "sel",
    "isel", "squeeze", "drop_vars", "add", "initialize", "final_time", "initial_time", "time_step", "saveper",
    "stage", "joinpath", "parent", "stats", "truncnorm", "truncexpon", "rvs",
}
PYSD = Profile(modules=("pathlib", "numpy", "xarray", "scipy", "pysd"), attributes=frozenset(_PYSD),
               names=frozenset({"__data", "__file__", "__pysd_version__"}))
KERNEL = Profile(modules=("numpy", "numba", "sdlib.engine.functions", "sdlib.engine.ufuncs", "sdlib.engine.vmath"),
                 attributes=_NUMPY | {"bool_"})
EXPRESSION = Profile(modules=(), attributes=_NUMPY)  # the batch engine's one-equation functions


def pysd_profile() -> Profile:
    """PYSD, widened by every attribute PySD's own function templates write (they vary by version)."""
    try:
        from pysd.builders.python.python_functions import functionspace
    except ImportError:  # pragma: no cover - PySD moved it
        return PYSD
    found = set()
    for entry in functionspace.values():
        template = entry[0] if isinstance(entry, tuple) else entry
        for text in template if isinstance(template, (list, tuple)) else [template]:
            if isinstance(text, str):
                found.update(re.findall(r"\.([A-Za-z][A-Za-z0-9_]*)", text))
    return Profile(PYSD.modules, PYSD.attributes | frozenset(found), PYSD.names)


def verify_python(source: str, label: str, profile: Profile) -> None:
    """Refuse generated Python that does anything a model's Python never needs (see the module doc)."""
    def refuse(why: str) -> ModelError:
        return ModelError(f"{label}: refused: the generated Python {why} (a model file is data; this is not "
                          f"something a Vensim model can ask for)")

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        raise ModelError(f"{label}: refused: the generated Python does not parse ({exc.__class__.__name__}: "
                         f"{str(exc)[:120]})") from None
    bound = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda)) and hasattr(n, "name")}
    for node in ast.walk(tree):
        kind = type(node).__name__
        if kind not in _SAFE_NODES:
            raise refuse(f"holds a {kind} statement")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    for statement in ast.walk(tree):
        if isinstance(statement, (ast.Import, ast.ImportFrom)) and statement not in tree.body:
            raise refuse("imports inside a function")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                _check_module(alias.name, profile, refuse)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise refuse("uses a relative import")
            _check_module(node.module or "", profile, refuse)
            for alias in node.names:
                if alias.name == "*" or alias.name.startswith("_"):
                    raise refuse(f"imports {alias.name!r} from {node.module}")
        elif isinstance(node, ast.Name):
            if node.id.startswith("__") and node.id not in profile.names:
                raise refuse(f"uses the name {node.id!r}")
            if node.id in _UNSAFE_BUILTINS and node.id not in bound:
                raise refuse(f"calls the builtin {node.id!r}")
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr not in profile.attributes:
                raise refuse(f"uses the attribute {node.attr!r}")


def _check_module(name: str, profile: Profile, refuse) -> None:
    if not any(name == m or name.startswith(m + ".") for m in profile.modules):
        raise refuse(f"imports {name!r}")
