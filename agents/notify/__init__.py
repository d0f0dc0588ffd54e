"""Customer notifications: templates, the e-mail and SMS-webhook senders, and the notifier
that joins them to the pure rules of `streams/notifications.py` and `streams/notify_plan.py`."""
