"""Encryption at rest is eventsourcing's own cipher (AES-GCM, `eventsourcing.cipher:AESCipher`); this
module only makes a wrong key fail at start, loudly, instead of at the first read, or never."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification


class UnreadableLog(RuntimeError):
    """The stored events cannot be decoded with the configured key (or lack of one)."""


def check_readable(recorder: ApplicationRecorder, mapper: Mapper[Any]) -> None:
    """Decodes the first and the last stored event; raises UnreadableLog if either fails.

    AES-GCM authenticates what it decrypts, so a wrong key cannot yield a wrong event: it yields an error,
    and this turns that error into one clear message before anything is served or written.
    """
    samples: list[Notification] = list(recorder.select_notifications(start=None, limit=1))
    last = recorder.max_notification_id()
    if samples and last is not None and last != samples[0].id:
        samples += recorder.select_notifications(start=last, limit=1)
    for notification in samples:
        try:
            mapper.to_domain_event(notification)
        except Exception as error:
            if mapper.cipher is not None:
                hint = ("DIPLO_CIPHER_KEY does not decrypt it: the key is wrong, or these events were stored "
                        "without encryption")
            else:
                hint = "it may be encrypted: set DIPLO_CIPHER_KEY to the key it was written with"
            raise UnreadableLog(
                f"the stored event at position {notification.id} cannot be read ({hint}); "
                f"refusing to start. Cause: {type(error).__name__}"
            ) from error
