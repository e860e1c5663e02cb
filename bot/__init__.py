"""Rasa assistant files and the motcua command line."""
