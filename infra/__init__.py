"""Platform pieces every part shares: database, settings, migrations, privacy, limits.

Nothing here imports Rasa; the other rooms build on it.
"""
