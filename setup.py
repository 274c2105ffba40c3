"""Build of the compiled parts: the PDN deck tokeniser (eda/pdn/_fastscan.c), CSV map writer (_fastwrite.c) and
the contest map's lattice interpolation (_fastmap.c), and the contest map's Delaunay triangulation through the
system's Qhull (_qhull2d.c, against Debian's libqhull-dev).

Everything else is configured in pyproject.toml. The extension is optional: without a C compiler the
install still succeeds; eda.pdn.parse reads decks with its NumPy and line-by-line readers and
eda.pdn.mapcsv writes maps with Python's own formatting (same bytes); eda.pdn.maps evaluates the contest map
with SciPy's interpolator (the same interpolant) and triangulates with scipy.spatial (the same triangles).
"""

from setuptools import Extension, setup

_FLAGS = ["-O2", "-std=gnu99", "-Wall"]
_HEADERS = ["eda/pdn/_fastnames.h", "eda/pdn/_fastnum.h"]
setup(ext_modules=[Extension("eda.pdn._fastscan", ["eda/pdn/_fastscan.c"], depends=_HEADERS, optional=True,
                             extra_compile_args=_FLAGS),
                   Extension("eda.pdn._fastwrite", ["eda/pdn/_fastwrite.c"], optional=True, extra_compile_args=_FLAGS),
                   # no fused multiply-add: the same rounding as SciPy's evaluation on every platform
                   Extension("eda.pdn._fastmap", ["eda/pdn/_fastmap.c"], optional=True,
                             extra_compile_args=[*_FLAGS, "-ffp-contract=off"]),
                   Extension("eda.pdn._qhull2d", ["eda/pdn/_qhull2d.c"], libraries=["qhull_r"], optional=True,
                             extra_compile_args=_FLAGS)])
