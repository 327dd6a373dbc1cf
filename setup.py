"""Build: the modules listed under ``[tool.headerkit] compiled`` in pyproject.toml are
compiled with mypyc (plain, strictly typed Python: compiled, the simulator runs about twice
as fast).  ``HEADERKIT_PURE=1`` installs them as Python only."""

import os
import tomllib

from setuptools import Extension, setup


def compiled() -> list[Extension]:
    if os.environ.get("HEADERKIT_PURE"):
        return []
    from mypyc.build import mypycify

    with open("pyproject.toml", "rb") as file:
        modules = tomllib.load(file)["tool"]["headerkit"]["compiled"]
    # the shared runtime goes inside the package (headerkit/_compiled__mypyc*.so), where
    # imports find it whatever the working directory
    return mypycify(modules, opt_level="3", group_name="headerkit._compiled")


setup(ext_modules=compiled())
