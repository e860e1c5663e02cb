"""Importers that turn external procedure catalogues into :class:`knowledge.schema.Procedure`."""
