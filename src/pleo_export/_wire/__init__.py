"""The wire: the one package that talks to the generated ``pleo_export_raw`` client.

``_seam`` sends requests on the shared pool and maps every response; the per-version adapters
(``v3``, ``v2``) build requests and update models and know each version's enums.
"""
