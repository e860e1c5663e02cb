"""A channel's ``credentials.yml`` section from the settings registry (:mod:`infra.settings`).

Rasa stops on an unset ``${VAR}`` in its YAML, so ``motcua run`` writes the section of
each configured channel from the environment. The values are read, and checked, by the
registry; a credentials key is written only when its variable is set, so the channel's
own defaults (``from_credentials``) apply to the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.settings import read


def configured(env: Mapping[str, str], variables: Mapping[str, str]) -> dict[str, str]:
    """Returns the credentials whose variables are set in ``env``, as the registry reads them.

    Args:
        env: The environment (usually ``os.environ``).
        variables: Credentials key → ``MOTCUA_*`` variable.

    Returns:
        ``{key: value}`` for each variable set to something other than blanks.

    Raises:
        infra.settings.SettingError: For a malformed value.
    """
    values = read(env)
    return {
        key: str(values[variable])
        for key, variable in variables.items()
        if (env.get(variable) or "").strip()
    }


def redis_url(env: Mapping[str, str]) -> str | None:
    """Returns the Redis URL for channel memories (``MOTCUA_REDIS_URL``, else the lock store's)."""
    values = read(env)
    return values["MOTCUA_REDIS_URL"] or values["MOTCUA_LOCK_STORE_URL"] or None


def channel_credentials(
    env: Mapping[str, str], variables: Mapping[str, str], switch: str
) -> dict[str, str] | None:
    """Returns a channel's credentials, or ``None`` when the channel is off.

    Args:
        env: The environment.
        variables: Credentials key → ``MOTCUA_*`` variable.
        switch: The credentials key whose variable turns the channel on (its token or id).

    Returns:
        ``None`` when the ``switch`` variable is unset or blank; otherwise the set keys
        (:func:`configured`) plus ``redis_url`` when channel memories go to Redis.
    """
    credentials = configured(env, variables)
    if not credentials.get(switch):
        return None
    shared = redis_url(env)
    if shared:
        credentials["redis_url"] = shared
    return credentials
