"""Build of the one compiled part: the PDN deck tokeniser (eda/pdn/_fastscan.c).

Everything else is configured in pyproject.toml. The extension is optional: without a C compiler the
install still succeeds and eda.pdn.parse reads decks with its NumPy and line-by-line readers.
"""

from setuptools import Extension, setup

setup(ext_modules=[Extension("eda.pdn._fastscan", ["eda/pdn/_fastscan.c"], depends=["eda/pdn/_fastnames.h"],
                             optional=True, extra_compile_args=["-O2", "-std=c99", "-Wall"])])
