"""The SDK's version, the one place it is written: pyproject.toml reads it (hatch's ``version``
source), and ``__version__``, ``_config.SDK_VERSION`` and the User-Agent import it."""

__version__ = "0.1.0"
