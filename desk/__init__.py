"""The one-stop desk's records: dossiers, hand-offs to staff, the conversation log.

Nothing here knows about Rasa or the catalogue's search; every store takes one
:class:`infra.db.Database`.
"""
