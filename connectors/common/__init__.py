"""Plumbing the Telegram and Zalo channels share.

* :mod:`connectors.common.memories`: what a channel remembers between messages (handled
  ids, numbered options, button keys), in this process or in Redis;
* :mod:`connectors.common.settings`: a channel's credentials from the settings registry;
* :mod:`connectors.common.tasks`: webhook work done after the answer, and a turn that
  never lets Rasa's failure escape;
* :mod:`connectors.common.splitting`: long replies cut at line boundaries.
"""
