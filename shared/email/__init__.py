"""Email: messages are queued on `emails` and sent by the queue-triggered job with the configured provider.

`models.EmailMessage` is what producers build, `service.enqueue_email` queues it, the `send_email` job
(blueprints/jobs/emails.py) calls `service.deliver`, and `providers` holds outbox, SMTP and ACS.
"""
