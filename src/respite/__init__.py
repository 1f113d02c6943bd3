"""respite: booking service for respite beds and home-care beds."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("respite")
except PackageNotFoundError:  # a source tree that was never installed (pip install -e .)
    __version__ = "0+unknown"
