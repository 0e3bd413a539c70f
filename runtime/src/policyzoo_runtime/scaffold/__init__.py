"""`policyzoo plugin new`: write a pip-installable policy plugin package from the templates beside this file.

Templates are `string.Template` files (`$name`, `$package`, ...); a path part `PACKAGE` becomes the import
name and `NAME` the policy type. `examples/mlp_bc` in the policyzoo repository is exactly what
`render("mlp_bc")` gives.
"""

from __future__ import annotations

import keyword
import re
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING

from policyzoo.errors import BadInput

if TYPE_CHECKING:
    from importlib.abc import Traversable

SUFFIX = ".tmpl"
_NAME = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MAX_NAME = 40


def check_name(name: str, taken: dict[str, str] | None = None) -> str:
    """`name` if it can be a policy type and a Python package suffix; else a BadInput with a fix.

    `taken` maps policy types already in use to the distribution that provides them.
    """
    if not _NAME.match(name) or len(name) > MAX_NAME or keyword.iskeyword(name):
        suggestion = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
        suggestion = (
            suggestion if _NAME.match(suggestion) and not keyword.iskeyword(suggestion) else "my_policy"
        )
        raise BadInput(
            f"NAME={name}: a plugin name is lowercase letters, digits and single underscores, "
            f"starting with a letter, at most {MAX_NAME} characters; e.g. {suggestion}"
        )
    if taken and name in taken:
        raise BadInput(f"NAME={name}: policy type '{name}' already exists ({taken[name]}); pick another name")
    return name


def variables(name: str) -> dict[str, str]:
    """The values substituted into the templates for plugin `name`."""
    from policyzoo.plugins import CONTRACT_VERSION
    from policyzoo_runtime import __version__

    return {
        "name": name,
        "package": f"policyzoo_{name}",
        "distribution": "policyzoo-" + name.replace("_", "-"),
        "class_name": "".join(part.capitalize() for part in name.split("_")),
        "contract": str(CONTRACT_VERSION),
        "runtime_version": ".".join(__version__.split(".")[:2]),
    }


def render(name: str) -> dict[Path, str]:
    """Every file of plugin `name`: relative path -> content."""
    values = variables(name)
    rendered: dict[Path, str] = {}
    for relative, template in _templates(files(__package__) / "template", Path()):
        parts = [
            values["package"] if part == "PACKAGE" else part.replace("NAME", name) for part in relative.parts
        ]
        rendered[Path(*parts).with_suffix("")] = Template(template.read_text(encoding="utf-8")).substitute(
            values
        )
    return rendered


def create(name: str, directory: Path, taken: dict[str, str] | None = None) -> list[Path]:
    """Write plugin `name` into `directory` (new or empty); returns the files written."""
    check_name(name, taken)
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BadInput(f"--dir={directory}: already exists and is not empty; pick a new folder")
    written = []
    for relative, content in render(name).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def _templates(folder: Traversable, relative: Path) -> list[tuple[Path, Traversable]]:
    found = []
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.is_dir():
            found += _templates(item, relative / item.name)
        elif item.name.endswith(SUFFIX):
            found.append((relative / item.name, item))
    return found
