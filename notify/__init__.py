"""The notifier: dossier status events in, notices to the citizens who follow them out.

``python -m notify`` serves ``POST /dossiers/events`` (signed events from the one-stop
system, :mod:`notify.events`), polls a feed for systems that cannot push
(:mod:`notify.polling`) and runs the sender (:mod:`notify.sender`) that delivers the
notice outbox (:mod:`desk.outbox`) through Telegram and Zalo (:mod:`notify.channels`);
the widget fetches its notices itself (:mod:`connectors.webchat_notices`).
"""
