"""Packaging: the top-level ``strategies/`` folder ships inside the wheel.

``strategies/`` stays the one place the built-in specs are edited; this maps it
into the package as ``shortthehype/builtin_strategies`` so that a plain
``pip install .`` (not editable) finds them too.  Everything else about the
distribution is declared in pyproject.toml.
"""

from setuptools import find_packages, setup

BUILTIN_SPECS = "shortthehype.builtin_strategies"

setup(
    packages=[*find_packages("src"), BUILTIN_SPECS],
    package_dir={"": "src", BUILTIN_SPECS: "strategies"},
    package_data={"shortthehype": ["py.typed"], BUILTIN_SPECS: ["*.toml", "*.py"]},
)
