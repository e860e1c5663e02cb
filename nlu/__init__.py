"""NLU for motcua: training data (``vi/``, ``en/``, ``regexes.yml``) and custom Rasa components.

``nlu.components.LanguageDetector`` is referenced by its dotted path in ``config.yml``.
"""
