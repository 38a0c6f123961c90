"""The bridge's channels: LINE, SMS (Twilio) and the web chat. Webhooks verify, store and
acknowledge (routes in line.py, sms.py, web.py); the worker (worker.py) feeds stored
messages to the bot in order per conversation; delivery.py sends the outbox (outbox.py)."""
