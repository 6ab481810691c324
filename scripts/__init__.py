"""Repository tooling: vendor the upstream spec, generate the raw client, check drift, update.

Run each as a module from the repository root (``python -m scripts.generate``); the Makefile
targets do. The spec diff engine itself ships in the package: ``pleo_export.spec``.
"""
