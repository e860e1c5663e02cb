"""Rasa custom actions: thin translations between the tracker and ``knowledge/``.

rasa-sdk imports every module of this package, so modules do no work at import
time; the catalogue, the index and the stores open on first use (see runtime).
"""
