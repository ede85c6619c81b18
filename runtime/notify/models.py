"""The tables of notifications: the in-app inbox and the webhook outbox.

``Message``  one notice to one user (their inbox); ``read_at`` once read.
``Outbox``   one notice for the deployment's webhook, delivered by the
             scheduler with retries (``pending`` → ``delivered`` or ``failed``).
"""

from __future__ import annotations

import tortoise.fields as tf
from tortoise.models import Model

from runtime.storage.columns import IsoDatetimeField


class Message(Model):
    id = tf.BigIntField(primary_key=True)
    user_id = tf.BigIntField()  # the recipient
    scenario = tf.CharField(max_length=64)
    entity = tf.CharField(max_length=64)
    record_id = tf.BigIntField(null=True)
    event = tf.CharField(max_length=100)
    title = tf.TextField()  # Chinese
    title_en = tf.TextField(null=True)
    body = tf.TextField(null=True)
    body_en = tf.TextField(null=True)
    actor = tf.BigIntField(null=True)
    source = tf.CharField(max_length=64, null=True)  # e.g. timer:12
    created_at = IsoDatetimeField()
    read_at = IsoDatetimeField(null=True)

    class Meta:
        table = "yidi_message"
        indexes = (("user_id", "read_at"), ("user_id", "id"))


class Outbox(Model):
    id = tf.BigIntField(primary_key=True)
    scenario = tf.CharField(max_length=64)
    entity = tf.CharField(max_length=64)
    record_id = tf.BigIntField(null=True)
    event = tf.CharField(max_length=100)
    payload = tf.TextField()  # the JSON body, exactly as signed and sent
    status = tf.CharField(max_length=16, default="pending")
    attempts = tf.IntField(default=0)
    next_at = IsoDatetimeField()
    lease_owner = tf.CharField(max_length=128, null=True)
    lease_until = IsoDatetimeField(null=True)
    last_status = tf.IntField(null=True)  # the HTTP status of the last attempt
    last_error = tf.TextField(null=True)
    created_at = IsoDatetimeField()
    delivered_at = IsoDatetimeField(null=True)

    class Meta:
        table = "yidi_outbox"
        indexes = (("status", "next_at"),)


__models__ = [Message, Outbox]
