"""Procedure catalogue, importers, embeddings, index and search (no Rasa imports)."""
